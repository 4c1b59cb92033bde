//! `schema.graphql` is the SDL of the code (set UPDATE_SCHEMA=1 to rewrite it), and every type,
//! field, argument and enum value in it is described.

use serde_json::Value;

#[test]
fn schema_graphql_matches_the_code() {
    let sdl = whale_crm::graphql::sdl();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(path, &sdl).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(committed == sdl, "schema.graphql is stale: run `UPDATE_SCHEMA=1 cargo test --test api schema` and commit it");
}

#[tokio::test(flavor = "multi_thread")]
async fn everything_in_the_schema_is_described() {
    let schema = whale_crm::graphql::schema(None);
    let query = "{ __schema { types { name description
        fields { name description args { name description } }
        inputFields { name description }
        enumValues { name description } } } }";
    let response = schema.execute(query).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let data = response.data.into_json().unwrap();
    let mut missing = Vec::new();
    let blank = |v: &Value| v.as_str().is_none_or(|s| s.trim().is_empty());
    for t in data["__schema"]["types"].as_array().unwrap() {
        let name = t["name"].as_str().unwrap();
        // Introspection types, and the spec's ID scalar (described by the GraphQL spec itself).
        if name.starts_with("__") || name == "ID" {
            continue;
        }
        if blank(&t["description"]) {
            missing.push(name.to_owned());
        }
        for f in t["fields"].as_array().into_iter().flatten().chain(t["inputFields"].as_array().into_iter().flatten()) {
            if blank(&f["description"]) {
                missing.push(format!("{name}.{}", f["name"]));
            }
            for a in f["args"].as_array().into_iter().flatten() {
                if blank(&a["description"]) {
                    missing.push(format!("{name}.{}({})", f["name"], a["name"]));
                }
            }
        }
        for v in t["enumValues"].as_array().into_iter().flatten() {
            if blank(&v["description"]) {
                missing.push(format!("{name}.{}", v["name"]));
            }
        }
    }
    assert!(missing.is_empty(), "undescribed: {missing:?}");
}
