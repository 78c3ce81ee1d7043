//! CMD-TRACE-001 for code fetched and then run: the URLs upstream of a shell
//! reading its stdin, and files (or archives' folders) downloaded on a line and
//! run later on it.

use crate::detect::hit::Hit;
use crate::detect::network::endpoints;
use crate::detect::rules::id;
use crate::detect::shell::{Command, RedirectKind, Script};
use crate::detect::taxonomy::{normalise_path, Taxonomy};
use crate::model::Severity;

/// URLs the fetchers upstream of a command download.
pub(super) fn upstream_urls(cmd: &Command, script: &Script, tax: &Taxonomy) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo: Vec<usize> = cmd.stdin_from.clone();
    let mut seen = 0;
    while let Some(i) = todo.pop() {
        seen += 1;
        if seen > 64 {
            break;
        }
        let Some(c) = script.commands.get(i) else {
            continue;
        };
        if tax.fetchers.contains(&c.name()) {
            out.extend(endpoints(c, tax).into_iter().map(|e| e.target));
        }
        todo.extend(c.stdin_from.iter().copied());
    }
    out
}

/// `curl -o x.sh URL && bash x.sh`: a file downloaded on the line is then run.
pub(super) fn downloaded_then_run(script: &Script, tax: &Taxonomy, ev: &str, hits: &mut Vec<Hit>) {
    let mut downloads: Vec<(String, Vec<String>)> = Vec::new();
    for cmd in &script.commands {
        let name = cmd.name();
        if tax.fetchers.contains(&name) {
            let mut outs: Vec<String> = ["--output", "--output-document"]
                .iter()
                .filter_map(|f| cmd.flag_value(f).map(str::to_string))
                .collect();
            let short = if name == "wget" { 'O' } else { 'o' };
            outs.extend(cmd.short_value(short).map(str::to_string));
            outs.extend(
                cmd.redirects
                    .iter()
                    .filter(|r| matches!(r.kind, RedirectKind::Write | RedirectKind::Append))
                    .map(|r| r.target.clone()),
            );
            if name == "wget" && outs.is_empty() && !cmd.has_flag("-q")
                || cmd.has_flag("-O") && outs.is_empty()
            {
                // `wget URL` / `curl -O URL` keep the URL's file name
                for e in endpoints(cmd, tax) {
                    if let Some(f) = e.target.rsplit('/').next().filter(|f| !f.is_empty()) {
                        outs.push(f.to_string());
                    }
                }
            }
            let urls: Vec<String> = endpoints(cmd, tax).into_iter().map(|e| e.target).collect();
            for o in outs {
                downloads.push((normalise_path(&o), urls.clone()));
            }
            continue;
        }
        // `curl … | tar xz -C DIR`, `unzip x.zip -d DIR` of a download: what lands in DIR
        if let Some(d) = extracted_download(cmd, script, tax, &downloads) {
            downloads.push(d);
            continue;
        }
        if downloads.is_empty() {
            continue;
        }
        let ran: Option<&String> = if tax.shells.contains(&name)
            || tax.interpreters.contains(&name)
            || name == "source"
            || name == "."
        {
            cmd.args().iter().find(|a| !a.starts_with('-'))
        } else {
            cmd.argv.first()
        };
        let Some(ran) = ran else { continue };
        let ran = normalise_path(ran);
        if let Some((file, urls)) = downloads.iter().find(|(f, _)| {
            *f == ran
                || f.ends_with('/')
                    && (ran.starts_with(f.as_str())
                        || f == "./" && !ran.starts_with(['/', '~', '$']) && ran.contains('/'))
                || f.rsplit('/').next() == Some(ran.as_str())
                || ran.rsplit('/').next() == Some(f.as_str())
        }) {
            let trusted = !urls.is_empty() && urls.iter().all(|u| tax.trusted_installer(u));
            let hit = Hit::new(
                id::CMD_OBFUSCATED,
                format!("{name} runs {file}, downloaded on the same line"),
                ev,
            );
            hits.push(if trusted {
                hit.severity(Severity::Low)
            } else {
                hit
            });
        }
    }
}

/// An archive extracted from a download (piped from a fetcher, or a file
/// downloaded earlier on the line): (its folder with a trailing `/`, the URLs).
pub(super) fn extracted_download(
    cmd: &Command,
    script: &Script,
    tax: &Taxonomy,
    downloads: &[(String, Vec<String>)],
) -> Option<(String, Vec<String>)> {
    let name = cmd.name();
    if !["tar", "gtar", "bsdtar", "unzip", "7z", "7za"].contains(&name.as_str()) {
        return None;
    }
    let fed: Vec<String> = cmd
        .stdin_from
        .iter()
        .filter_map(|i| script.commands.get(*i))
        .filter(|c| tax.fetchers.contains(&c.name()))
        .flat_map(|c| endpoints(c, tax).into_iter().map(|e| e.target))
        .collect();
    let urls = if fed.is_empty() {
        let args: Vec<String> = cmd.args().iter().map(|a| normalise_path(a)).collect();
        downloads
            .iter()
            .find(|(f, _)| !f.ends_with('/') && args.contains(f))?
            .1
            .clone()
    } else {
        fed
    };
    let dir = cmd
        .flag_value("-C")
        .or_else(|| cmd.flag_value("--directory"))
        .or_else(|| (name == "unzip").then(|| cmd.flag_value("-d")).flatten())
        .map(normalise_path)
        .unwrap_or_default();
    let dir = dir.trim_end_matches('/');
    let key = if dir.is_empty() || dir == "." {
        "./".to_string()
    } else {
        format!("{dir}/")
    };
    Some((key, urls))
}
