//! The real binary: `export --check` exit codes and lists, standard output, refused requests.

use super::*;

fn streamvault(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_streamvault"))
        .args(args)
        .current_dir(dir)
        .env_remove("STREAMVAULT__DATABASE__URL")
        .output()
        .expect("run streamvault")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

both_backends!(
    check_names_exactly_what_changed_since_the_export,
    |db| async {
        archive_v1(&db).await;
        let dir = db.dir.path();
        // The real binary, read-only: a CSV export and its manifest.
        let out = streamvault(
            &[
                "--database",
                &db.url,
                "export",
                "--format",
                "csv",
                "--output",
                "shared.csv",
            ],
            dir,
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains("export: 7 statuses written"),
            "{}",
            text(&out.stderr)
        );
        let check = |extra: &[&str]| {
            let mut args = vec![
                "--database",
                db.url.as_str(),
                "export",
                "--check",
                "shared.csv.manifest.json",
            ];
            args.extend_from_slice(extra);
            streamvault(&args, dir)
        };
        let unchanged = check(&[]);
        assert_eq!(
            unchanged.status.code(),
            Some(0),
            "{}",
            text(&unchanged.stderr)
        );
        assert_eq!(text(&unchanged.stdout), "");
        // Since the export: an original deleted (its retweet goes with it), an author protected,
        // a status dropped, a location scrubbed.
        let later = [
            v1::delete(105, 4),
            lines::user_event("user_protect", 5, 0),
            lines::tweet_event("drop", 109, 7, 0),
            v1::scrub_geo(1, 101),
        ];
        let later: Vec<&str> = later.iter().map(String::as_str).collect();
        db.replay_lines(&later).await;
        let changed = check(&[]);
        assert_eq!(changed.status.code(), Some(5), "{}", text(&changed.stderr));
        assert_eq!(
            text(&changed.stdout),
            "101\tgeo_scrubbed\n104\terased\n107\tuser_protected\n109\tdropped\n"
        );
        assert!(text(&changed.stderr).contains("4 of 7 exported ids must be removed"));
        let to_file = check(&["--output", "remove.ids"]);
        assert_eq!(to_file.status.code(), Some(5));
        assert_eq!(ids_in(&dir.join("remove.ids")), [101, 104, 107, 109]);
        // An ids export taken now is compliant again: its check finds nothing.
        let out = streamvault(
            &["--database", &db.url, "export", "--output", "now.ids"],
            dir,
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(ids_in(&dir.join("now.ids")), [101, 106, 110, 111]);
        let again = streamvault(
            &[
                "--database",
                &db.url,
                "export",
                "--check",
                "now.ids.manifest.json",
            ],
            dir,
        );
        assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    }
);

both_backends!(standard_output_and_refused_requests, |db| async {
    archive_v1(&db).await;
    let dir = db.dir.path();
    let out = streamvault(
        &[
            "--database",
            &db.url,
            "export",
            "--format",
            "csv",
            "--output",
            "-",
        ],
        dir,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(csv_parse::parse(&text(&out.stdout)).len(), 8);
    assert!(
        !dir.join("-.manifest.json").exists(),
        "no manifest for standard output"
    );
    for (args, code) in [
        (vec!["export"], 2),
        (vec!["export", "--format", "parquet", "--output", "-"], 2),
        (vec!["export", "--country", "DEU", "--output", "x.ids"], 2),
        (vec!["export", "--check", "missing.manifest.json"], 2),
    ] {
        let mut all = vec!["--database", db.url.as_str()];
        all.extend(args.iter().copied());
        let out = streamvault(&all, dir);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
});
