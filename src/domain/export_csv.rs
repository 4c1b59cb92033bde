//! The CSV form of an export archive: a zip holding one CSV file per section of the JSON archive
//! (`customer.csv` with one row, `addresses.csv`, `notes.csv`, `activity.csv`, `metrics.csv`,
//! `segments.csv`, `enrichment.csv` with one row), a header row each. Text cells are written as they are; numbers and booleans
//! as JSON writes them; null as an empty cell; nested values (tags, metadata, properties, RFM
//! scores) as compact JSON.

use serde_json::Value;
use std::io::{Cursor, Write};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

/// The sections, in order, and whether each is one object (else a list of objects).
const SECTIONS: [(&str, bool); 7] =
    [("customer", true), ("addresses", false), ("notes", false), ("activity", false), ("metrics", true), ("segments", false), ("enrichment", true)];

fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// One section as CSV: the header from the first row's keys (every row has the same keys).
fn table(rows: &[&serde_json::Map<String, Value>]) -> anyhow::Result<Vec<u8>> {
    let mut out = csv::Writer::from_writer(Vec::new());
    if let Some(first) = rows.first() {
        out.write_record(first.keys())?;
        for row in rows {
            out.write_record(first.keys().map(|k| cell(row.get(k).unwrap_or(&Value::Null))))?;
        }
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
        zip.write_all(&table(&rows)?)?;
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
            "notes": [],
            "activity": [{ "title": "Order", "properties": { "items": 2 } }],
            "metrics": { "churnRisk": 0.25 },
            "segments": [{ "name": "VIPs" }],
        });
        let bytes = zip(&archive).unwrap();
        let mut files = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        let mut read = |name: &str| {
            let mut text = String::new();
            files.by_name(name).unwrap().read_to_string(&mut text).unwrap();
            text
        };
        assert_eq!(read("customer.csv"), "email,firstName,tags,totalOrders\nann@example.com,,\"[\"\"vip\"\",\"\"b2b\"\"]\",2\n");
        assert_eq!(read("addresses.csv"), "city,line1\n\"Oslo, Norway\",\"1 \"\"Main\"\" St\"\n");
        assert_eq!(read("notes.csv"), "");
        assert_eq!(read("activity.csv"), "properties,title\n\"{\"\"items\"\":2}\",Order\n");
        assert_eq!(read("metrics.csv"), "churnRisk\n0.25\n");
        assert_eq!(read("segments.csv"), "name\nVIPs\n");
    }
}
