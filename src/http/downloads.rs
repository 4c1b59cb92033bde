//! `GET /downloads/{id}?expires=…&signature=…`: an export archive. No API key: the link's
//! signature (from `DataRequest.downloadUrl`) is the credential, for that one archive, until the
//! link's expiry. A wrong signature is 403; an expired link, or an archive that is gone, 404.

use super::AppState;
use crate::db::exports;
use crate::domain::data_request::download_signature_valid;
use crate::domain::ids::DataRequestId;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;

/// The signed part of a link.
#[derive(Deserialize)]
pub struct Link {
    expires: i64,
    signature: String,
}

pub async fn download(State(state): State<AppState>, Path(id): Path<String>, Query(link): Query<Link>) -> Response {
    if !download_signature_valid(&state.secret.0, &id, link.expires, &link.signature) {
        return (StatusCode::FORBIDDEN, "This download link is not valid.").into_response();
    }
    let now = Utc::now();
    let gone = || (StatusCode::NOT_FOUND, "This download link has expired, or the archive no longer exists.").into_response();
    if now.timestamp() >= link.expires {
        return gone();
    }
    let Ok(request) = DataRequestId::parse(&id) else { return gone() };
    let found = async {
        let mut conn = state.pool.get().await?;
        anyhow::Ok(exports::find(&mut conn, request, now).await?)
    };
    match found.await {
        Ok(Some((content_type, filename, content))) => {
            let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")).unwrap_or(HeaderValue::from_static("attachment"));
            let content_type = HeaderValue::from_str(&content_type).unwrap_or(HeaderValue::from_static("application/octet-stream"));
            let headers = [
                (header::CONTENT_TYPE, content_type),
                (header::CONTENT_DISPOSITION, disposition),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
                (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            ];
            (headers, content).into_response()
        }
        Ok(None) => gone(),
        Err(err) => {
            tracing::error!(error = format!("{err:#}"), "download failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "The archive could not be read; try again.").into_response()
        }
    }
}
