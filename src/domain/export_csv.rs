//! The CSV form of an export archive: a zip holding one CSV file per section of the JSON archive
//! (`customer.csv` with one row, `addresses.csv`, `notes.csv`, `activity.csv`, `metrics.csv`,
//! `segments.csv`, `enrichment.csv` with one row), a header row each — a list's file has its header
//! even when the list is empty, so a reader always finds its columns. Text cells are written as
//! they are; numbers and booleans as JSON writes them; null as an empty cell; nested values (tags,
//! metadata, properties, RFM scores) as compact JSON.

use serde_json::Value;
use std::io::{Cursor, Write};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

/// The sections, in order, and whether each is one object (else a list of objects).
const SECTIONS: [(&str, bool); 7] =
    [("customer", true), ("addresses", false), ("notes", false), ("activity", false), ("metrics", true), ("segments", false), ("enrichment", true)];

/// The columns of each list section: the keys of its rows in `db::exports::archive`, in the
/// order JSON keeps them (sorted). A row with another key is refused, so the two stay in step.
pub fn list_columns(section: &str) -> &'static [&'static str] {
    match section {
        "addresses" => &[
            "city", "company", "country", "createdAt", "firstName", "id", "isDefault", "lastName", "line1", "line2", "phone", "postalCode", "state",
        ],
        "notes" => &["author", "body", "createdAt", "id", "updatedAt"],
        "activity" => &[
            "agent", "amount", "campaignId", "externalId", "id", "occurredAt", "orderId", "properties", "recordedAt", "referrer", "title", "type",
        ],
        "segments" => &["id", "name", "type"],
        _ => &[],
    }
}

fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// One section as CSV: the header from `columns`, or else from the first row's keys (every row
/// of a one-object section has the same keys).
fn table(section: &str, columns: &[&str], rows: &[&serde_json::Map<String, Value>]) -> anyhow::Result<Vec<u8>> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let header: Vec<&str> = match (columns, rows.first()) {
        ([], Some(first)) => first.keys().map(String::as_str).collect(),
        (columns, _) => columns.to_vec(),
    };
    if !header.is_empty() {
        out.write_record(&header)?;
    }
    for row in rows {
        if let Some(other) = row.keys().find(|k| !header.contains(&k.as_str())) {
            anyhow::bail!("{section}.csv has no column {other}");
        }
        out.write_record(header.iter().map(|k| cell(row.get(*k).unwrap_or(&Value::Null))))?;
    }
    Ok(out.into_inner()?)
}

/// The zip of CSV files for `archive` (the JSON archive).
pub fn zip(archive: &Value) -> anyhow::Result<Vec<u8>> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    for (name, single) in SECTIONS {
        let section = &archive[name];
        let rows: Vec<&serde_json::Map<String, Value>> = if single {
            section.as_object().into_iter().collect()
        } else {
            section.as_array().map(|rows| rows.iter().filter_map(Value::as_object).collect()).unwrap_or_default()
        };
        zip.start_file(format!("{name}.csv"), options)?;
        zip.write_all(&table(name, list_columns(name), &rows)?)?;
    }
    Ok(zip.finish()?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::io::Read;

    #[test]
    fn every_section_becomes_a_csv_file_in_the_zip() {
        let archive = json!({
            "customer": { "email": "ann@example.com", "tags": ["vip", "b2b"], "totalOrders": 2, "firstName": null },
            "addresses": [{ "city": "Oslo, Norway", "line1": "1 \"Main\" St" }],
            "activity": [],
            "notes": [{ "body": "hi", "id": "note_1" }],
            "metrics": { "churnRisk": 0.25 },
            "segments": [],
        });
        let bytes = zip(&archive).unwrap();
        let mut files = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        let mut read = |name: &str| {
            let mut text = String::new();
            files.by_name(name).unwrap().read_to_string(&mut text).unwrap();
            text
        };
        assert_eq!(read("customer.csv"), "email,firstName,tags,totalOrders\nann@example.com,,\"[\"\"vip\"\",\"\"b2b\"\"]\",2\n");
        assert_eq!(read("addresses.csv"), "city,company,country,createdAt,firstName,id,isDefault,lastName,line1,line2,phone,postalCode,state\n\"Oslo, Norway\",,,,,,,,\"1 \"\"Main\"\" St\",,,,\n");
        assert_eq!(read("notes.csv"), "author,body,createdAt,id,updatedAt\n,hi,,note_1,\n");
        // empty lists keep their header
        assert_eq!(read("activity.csv"), "agent,amount,campaignId,externalId,id,occurredAt,orderId,properties,recordedAt,referrer,title,type\n");
        assert_eq!(read("segments.csv"), "id,name,type\n");
        assert_eq!(read("metrics.csv"), "churnRisk\n0.25\n");
        assert_eq!(read("enrichment.csv"), "");
    }

    #[test]
    fn a_row_with_an_unlisted_key_is_refused() {
        let archive = json!({ "notes": [{ "body": "hi", "secret": 1 }] });
        assert!(zip(&archive).unwrap_err().to_string().contains("notes.csv has no column secret"));
    }
}
