//! `kubectl dssc-doctor schema`: prints the JSON Schema of the `-o json` report (the
//! same text as the shipped `schema/report.schema.json`).

pub fn run() -> anyhow::Result<i32> {
    super::emit(&crate::report::schema::report_schema_text())?;
    Ok(0)
}
