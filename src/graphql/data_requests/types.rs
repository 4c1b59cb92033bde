//! `DataRequest` and its enums.

use crate::db::data_requests::DataRequest as Stored;
use crate::domain::data_request::{DataRequestKind, DownloadLinks, ExportFormat};
use crate::domain::ids::{CustomerId, DataRequestId};
use crate::graphql::pagination::PageInfo;
use crate::graphql::scalars::Timestamp;
use async_graphql::{Context, Enum, ID, Object, Result, SimpleObject};
use chrono::{Duration, Utc};

/// What the customer asked for.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataRequestType {
    /// Remove every piece of the customer's personal data (GDPR art. 17, CCPA deletion).
    Erasure,
    /// An archive of everything held on the customer (GDPR art. 15 and 20, CCPA access).
    Export,
}

impl From<DataRequestType> for DataRequestKind {
    fn from(t: DataRequestType) -> Self {
        match t {
            DataRequestType::Erasure => Self::Erasure,
            DataRequestType::Export => Self::Export,
        }
    }
}

/// How an export archive is written.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataExportFormat {
    /// One JSON document: `customer`, `addresses`, `notes`, `activity`, `metrics`, `segments`.
    Json,
    /// A zip of CSV files, one per section of the JSON document (`customer.csv`,
    /// `addresses.csv`, `notes.csv`, `activity.csv`, `metrics.csv`, `segments.csv`).
    Csv,
}

impl From<DataExportFormat> for ExportFormat {
    fn from(f: DataExportFormat) -> Self {
        match f {
            DataExportFormat::Json => Self::Json,
            DataExportFormat::Csv => Self::Csv,
        }
    }
}

/// Where a request stands.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataRequestStatus {
    /// Accepted, waiting for a worker.
    Pending,
    /// Being carried out.
    Processing,
    /// Done.
    Completed,
    /// Given up after repeated failures (logged as an error for the operators).
    Failed,
}

impl DataRequestStatus {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Processing => "PROCESSING",
            Self::Completed => "COMPLETED",
            Self::Failed => "FAILED",
        }
    }

    fn from_stored(text: &str) -> Self {
        [Self::Pending, Self::Processing, Self::Completed, Self::Failed].into_iter().find(|s| s.as_str() == text).unwrap_or(Self::Failed)
    }
}

/// How long a request's job takes once a worker has it, at most, in the estimate.
const EXPECTED_RUN: Duration = Duration::seconds(30);

/// A GDPR/CCPA request about one customer.
pub struct DataRequest(pub Stored);

/// A GDPR/CCPA request about one customer.
#[Object]
impl DataRequest {
    /// The request's id (`dreq_...`).
    async fn id(&self) -> ID {
        ID(DataRequestId(self.0.row.id).to_string())
    }
    /// The customer it is about (after an erasure, an id that resolves to nothing).
    async fn customer_id(&self) -> ID {
        ID(CustomerId(self.0.row.customer_id).to_string())
    }
    /// What was asked for.
    #[graphql(name = "type")]
    async fn request_type(&self) -> DataRequestType {
        match DataRequestKind::from_stored(&self.0.row.kind) {
            Some(DataRequestKind::Export) => DataRequestType::Export,
            Some(DataRequestKind::Erasure) | None => DataRequestType::Erasure,
        }
    }
    /// For an export: how the archive is written.
    async fn format(&self) -> Option<DataExportFormat> {
        match ExportFormat::from_stored(self.0.row.format.as_deref()?)? {
            ExportFormat::Json => Some(DataExportFormat::Json),
            ExportFormat::Csv => Some(DataExportFormat::Csv),
        }
    }
    /// Where it stands: PENDING → PROCESSING → COMPLETED or FAILED.
    async fn status(&self) -> DataRequestStatus {
        DataRequestStatus::from_stored(&self.0.row.status)
    }
    /// Why it was made, as given. Cleared when an erasure of the customer completes (it may
    /// name them).
    async fn reason(&self) -> Option<&str> {
        self.0.row.reason.as_deref()
    }
    /// Whether the store asked to have the customer told when it completes.
    async fn notify_customer(&self) -> bool {
        self.0.row.notify_customer
    }
    /// For an erasure: HMAC-SHA256 (hex) of the customer's lower-cased email under the server's
    /// secret — the proof, without the address, that this customer was erased.
    async fn email_hash(&self) -> Option<&str> {
        self.0.row.email_hash.as_deref()
    }
    /// When it is expected to be done: its completion time once completed; while open, when its
    /// job is next due (later after a failed attempt) plus the time a run takes; null if it
    /// failed.
    async fn estimated_completion(&self) -> Option<Timestamp> {
        let row = &self.0.row;
        match DataRequestStatus::from_stored(&row.status) {
            DataRequestStatus::Completed => row.completed_at.map(Timestamp),
            DataRequestStatus::Failed => None,
            DataRequestStatus::Pending | DataRequestStatus::Processing => {
                let due = self.0.job_run_at.unwrap_or(row.created_at).max(Utc::now());
                Some(Timestamp(due + EXPECTED_RUN))
            }
        }
    }
    /// For a completed export: where to download the archive — a signed link that works for
    /// this archive only, for an hour (read the field again for a fresh one) and never after
    /// the archive expires, 7 days after completion.
    async fn download_url(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let row = &self.0.row;
        let (Some(DataRequestKind::Export), Some(completed), "COMPLETED") = (DataRequestKind::from_stored(&row.kind), row.completed_at, row.status.as_str())
        else {
            return Ok(None);
        };
        Ok(ctx.data::<DownloadLinks>()?.for_export(&DataRequestId(row.id).to_string(), completed, Utc::now()))
    }
    /// When it was made.
    async fn created_at(&self) -> Timestamp {
        Timestamp(self.0.row.created_at)
    }
    /// When a worker started on it.
    async fn started_at(&self) -> Option<Timestamp> {
        self.0.row.started_at.map(Timestamp)
    }
    /// When it completed (or failed for good).
    async fn completed_at(&self) -> Option<Timestamp> {
        self.0.row.completed_at.map(Timestamp)
    }
}

/// A page of data requests, newest first.
#[derive(SimpleObject)]
pub struct DataRequestConnection {
    /// The requests on this page.
    pub nodes: Vec<DataRequest>,
    /// Where this page sits in the list.
    pub page_info: PageInfo,
}
