//! `export`: a shareable dataset written from the archive (read-only), with its manifest; and
//! `export --check MANIFEST`, which names what a past export must now drop (exit 5).

use super::Failure;
use super::args::{ExportArgs, ExportBy};
use super::commands::Overrides;
use crate::export::{self, Filters, Request, Target, TimeBasis};
use crate::store;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Runs an export, or a check when `--check` is given.
pub(super) async fn run(overrides: &Overrides, args: ExportArgs) -> Result<(), Failure> {
    let settings = overrides.settings()?;
    let url = &settings.database.url;
    if let Some(manifest) = &args.check {
        return check(url, manifest, args.output.as_deref()).await;
    }
    let Some(output) = args.output.clone() else {
        return Err(Failure::Usage(
            "export needs --output PATH (`-` for standard output)".into(),
        ));
    };
    let filters = Filters {
        since: args.since,
        until: args.until,
        by: match args.by {
            ExportBy::Created => TimeBasis::Created,
            ExportBy::Archived => TimeBasis::Archived,
        },
        stream: args.stream,
        rule: args.rule,
        user: args.user,
        countries: args.countries,
    }
    .validated()
    .map_err(|e| Failure::Usage(e.to_string()))?;
    let target = if output == Path::new("-") {
        Target::Stdout
    } else {
        Target::File(output)
    };
    let request = Request {
        format: args.format,
        target,
        manifest: args.manifest,
        filters,
        progress: std::io::stderr().is_terminal(),
    };
    // Read-only: never created, migrated or written (a daemon may be writing it meanwhile).
    let archive = store::open_read_only(url).await?;
    let result = export::export(archive.backend(), &request).await;
    archive.close().await;
    let exported = result?;
    eprintln!("{}", describe(&exported, &request));
    Ok(())
}

/// The one line an export prints on standard error (standard output may hold the data).
fn describe(exported: &export::Exported, request: &Request) -> String {
    let c = &exported.counts;
    let left_out: Vec<String> = c
        .left_out
        .iter()
        .map(|(reason, n)| format!("{n} {reason}"))
        .collect();
    let whereto = match &request.target {
        Target::File(p) => p.display().to_string(),
        Target::Stdout => "standard output".into(),
    };
    let mut line = format!(
        "export: {} statuses written to {whereto} as {}; left out: {}",
        c.written,
        request.format.name(),
        if left_out.is_empty() {
            "none".into()
        } else {
            left_out.join(", ")
        },
    );
    if c.embedded_copies_left_out > 0 {
        line.push_str(&format!(
            "; embedded copies left out: {}",
            c.embedded_copies_left_out
        ));
    }
    if let Some((path, _)) = &exported.manifest {
        line.push_str(&format!("; manifest {}", path.display()));
    }
    line
}

/// `--check`: prints `ID<TAB>REASON` per id to remove (or writes the ids to `output`), and
/// fails with exit 5 when there is any.
async fn check(url: &str, manifest: &Path, output: Option<&Path>) -> Result<(), Failure> {
    let archive = store::open_read_only(url).await?;
    let (mut out, partial): (Box<dyn Write + Send>, Option<(PathBuf, PathBuf)>) = match output {
        Some(path) if path != Path::new("-") => {
            let partial = PathBuf::from(format!("{}.partial", path.display()));
            let file = std::fs::File::create(&partial)
                .map_err(|e| Failure::Usage(format!("cannot write {}: {e}", partial.display())))?;
            (
                Box::new(std::io::BufWriter::new(file)),
                Some((partial, path.to_owned())),
            )
        }
        _ => (Box::new(std::io::BufWriter::new(std::io::stdout())), None),
    };
    let ids_only = partial.is_some();
    let result = export::check(archive.backend(), manifest, |id, reason| {
        if ids_only {
            writeln!(out, "{id}")
        } else {
            writeln!(out, "{id}\t{reason}")
        }
    })
    .await;
    archive.close().await;
    let flushed = out.flush();
    drop(out);
    let summary = match (result, flushed) {
        (Ok(s), Ok(())) => s,
        (Err(e), _) => {
            discard(&partial);
            return Err(e.into());
        }
        (Ok(_), Err(e)) => {
            discard(&partial);
            return Err(Failure::Other(anyhow::anyhow!(
                "writing the ids to remove: {e}"
            )));
        }
    };
    if let Some((partial, path)) = &partial {
        std::fs::rename(partial, path)
            .map_err(|e| Failure::Other(anyhow::anyhow!("renaming {}: {e}", partial.display())))?;
    }
    if summary.ids_file_changed {
        eprintln!(
            "warning: the exported ids file changed since the export (its SHA-256 differs \
             from the manifest's); checked the ids it holds now"
        );
    }
    let n = summary.must_remove();
    if n == 0 {
        eprintln!(
            "export --check: all {} exported ids may still be shared",
            summary.checked
        );
        return Ok(());
    }
    let reasons: Vec<String> = summary
        .by_reason
        .iter()
        .map(|(reason, k)| format!("{k} {reason}"))
        .collect();
    Err(Failure::MustRemove(format!(
        "{n} of {} exported ids must be removed from the shared dataset ({})",
        summary.checked,
        reasons.join(", ")
    )))
}

fn discard(partial: &Option<(PathBuf, PathBuf)>) {
    if let Some((p, _)) = partial {
        let _ = std::fs::remove_file(p);
    }
}
