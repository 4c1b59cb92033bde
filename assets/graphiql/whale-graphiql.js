// Whale CRM: starts GraphiQL on /graphql, with subscriptions over /graphql/ws (graphql-transport-ws).
// A file of our own rather than an inline script, so the page's Content-Security-Policy allows
// scripts from this server only. The headers set in GraphiQL's headers pane (`Authorization`) are
// sent with every HTTP request and in the WebSocket's `connection_init` payload.
(function () {
  "use strict";
  var http = new URL("/graphql", window.location.href).toString();
  var ws = new URL("/graphql/ws", window.location.href);
  ws.protocol = ws.protocol === "https:" ? "wss:" : "ws:";
  var root = document.getElementById("graphiql");
  root.textContent = "";
  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, {
      fetcher: GraphiQL.createFetcher({ url: http, subscriptionUrl: ws.toString() }),
      defaultEditorToolsVisibility: true,
      defaultHeaders: JSON.stringify({ Authorization: "Bearer wk_live_..." }, null, 2),
    })
  );
})();
