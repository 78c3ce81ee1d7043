//! CMD-TRACE-001 for code fetched and then run: the URLs upstream of a shell
//! reading its stdin, and files (or archives' folders) downloaded on a line and
//! run later on it.

use crate::detect::hit::Hit;
use crate::detect::network::endpoints;
use crate::detect::rules::id;
use crate::detect::shell::{Command, RedirectKind, Script};
use crate::detect::taxonomy::{normalise_path, Taxonomy};
use crate::detect::tokens::keyed_hash_hex;
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

/// The value after a flag spelt in any case (PowerShell's `-OutFile`, `-File`).
fn flag_any_case<'a>(cmd: &'a Command, flag: &str) -> Option<&'a str> {
    let args = cmd.args();
    let i = args.iter().position(|a| a.eq_ignore_ascii_case(flag))?;
    args.get(i + 1).map(String::as_str)
}

/// What one command downloads: the files, normalised, each with its URLs
/// (see [`fetched_files`]); `None` when it downloads nothing.
pub(crate) type Fetched = Option<Vec<(String, Vec<String>)>>;

/// [`fetched_files`] of each command of `script`, in order: a pure function of
/// the parsed line, kept with the call in the call memo so a call seen again
/// is not read for downloads again by [`across_calls`].
pub(crate) fn fetched_by_command(script: &Script, tax: &Taxonomy) -> Vec<Fetched> {
    script
        .commands
        .iter()
        .map(|c| fetched_files(c, tax))
        .collect()
}

/// The files a fetcher command downloads to, normalised, with its URLs; `None`
/// when `cmd` downloads nothing. Knows `curl -o`, `wget -O`, `--output…`, a
/// redirect, `wget URL` / `curl -O URL` (the URL's name), `certutil -urlcache
/// … URL FILE` and `bitsadmin /transfer … URL FILE` (the last word),
/// PowerShell's `-OutFile` and `WebClient.DownloadFile('URL','FILE')`.
pub(crate) fn fetched_files(cmd: &Command, tax: &Taxonomy) -> Option<Vec<(String, Vec<String>)>> {
    let name = cmd.name();
    if !tax.fetchers.contains(&name) {
        return web_client_download(cmd);
    }
    let mut outs: Vec<String> = ["--output", "--output-document"]
        .iter()
        .filter_map(|f| cmd.flag_value(f).map(str::to_string))
        .collect();
    let short = if name == "wget" { 'O' } else { 'o' };
    outs.extend(cmd.short_value(short).map(str::to_string));
    outs.extend(flag_any_case(cmd, "-OutFile").map(str::to_string));
    outs.extend(
        cmd.redirects
            .iter()
            .filter(|r| matches!(r.kind, RedirectKind::Write | RedirectKind::Append))
            .map(|r| r.target.clone()),
    );
    let urls: Vec<String> = endpoints(cmd, tax).into_iter().map(|e| e.target).collect();
    let windows = name == "bitsadmin"
        || name == "certutil"
            && cmd
                .args()
                .iter()
                .any(|a| a.eq_ignore_ascii_case("-urlcache"));
    if windows && outs.is_empty() {
        // the destination follows the URL
        let args = cmd.args();
        if let Some(i) = args.iter().position(|a| a.contains("://")) {
            outs.extend(args.get(i + 1).cloned());
        }
    }
    if name == "wget" && outs.is_empty() && !cmd.has_flag("-q")
        || cmd.has_flag("-O") && outs.is_empty()
    {
        // `wget URL` / `curl -O URL` keep the URL's file name
        for u in &urls {
            if let Some(f) = u.rsplit('/').next().filter(|f| !f.is_empty()) {
                outs.push(f.to_string());
            }
        }
    }
    Some(
        outs.into_iter()
            .map(|o| (normalise_path(&o), urls.clone()))
            .collect(),
    )
}

/// `(New-Object Net.WebClient).DownloadFile('URL','FILE')` as the words the
/// PowerShell walk leaves of it.
fn web_client_download(cmd: &Command) -> Option<Vec<(String, Vec<String>)>> {
    let w = cmd
        .argv
        .iter()
        .find(|a| a.to_ascii_lowercase().contains(".downloadfile("))?;
    let inner = &w[w.to_ascii_lowercase().find(".downloadfile(")? + 14..];
    let inner = inner.split(')').next().unwrap_or(inner);
    let (url, file) = inner.split_once(',')?;
    let clean = |s: &str| s.trim().trim_matches(['\'', '"']).to_string();
    Some(vec![(normalise_path(&clean(file)), vec![clean(url)])])
}

/// The files `cmd` runs, as written: a shell's or interpreter's script
/// (`powershell -File X`), every word of a launcher (`start`, `Start-Process`,
/// `msiexec /i`, `iex (gc X)`, `rundll32 X,Entry`), else the program itself.
pub(crate) fn ran_files(cmd: &Command, tax: &Taxonomy) -> Vec<String> {
    let name = cmd.name();
    if tax.shells.contains(&name)
        || tax.interpreters.contains(&name)
        || name == "source"
        || name == "."
    {
        let script = flag_any_case(cmd, "-File").or_else(|| {
            cmd.args()
                .iter()
                .find(|a| !a.starts_with('-'))
                .map(String::as_str)
        });
        return script.map(|s| vec![normalise_path(s)]).unwrap_or_default();
    }
    if tax.launchers.contains(&name) {
        return cmd
            .args()
            .iter()
            .filter(|a| !a.starts_with(['-', '/']))
            .map(|a| {
                let a = a.trim_matches(['(', ')', '\'', '"']);
                normalise_path(a.split(',').next().unwrap_or(a))
            })
            .collect();
    }
    cmd.argv
        .first()
        .map(|a| vec![normalise_path(a)])
        .unwrap_or_default()
}

/// True when `ran` names the downloaded `file` (or a file in a downloaded folder).
pub(crate) fn same_file(file: &str, ran: &str) -> bool {
    file == ran
        || file.ends_with('/')
            && (ran.starts_with(file)
                || file == "./" && !ran.starts_with(['/', '~', '$']) && ran.contains('/'))
        || file.rsplit('/').next() == Some(ran)
        || ran.rsplit('/').next() == Some(file)
}

/// `curl -o x.sh URL && bash x.sh`: a file downloaded on the line is then run.
pub(super) fn downloaded_then_run(script: &Script, tax: &Taxonomy, ev: &str, hits: &mut Vec<Hit>) {
    let mut downloads: Vec<(String, Vec<String>)> = Vec::new();
    for cmd in &script.commands {
        if let Some(files) = fetched_files(cmd, tax) {
            downloads.extend(files);
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
        let name = cmd.name();
        for ran in ran_files(cmd, tax) {
            let Some((file, urls)) = downloads.iter().find(|(f, _)| same_file(f, &ran)) else {
                continue;
            };
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
            break;
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

/// At most this many downloads are remembered per run.
const MAX_REMEMBERED: usize = 64;

/// A download's name as a run remembers it: a keyed hash of the file's last
/// part, so the state saved between the guard's processes holds no path.
fn remembered_name(key: &[u8; 32], path: &str) -> String {
    let base = path
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(path);
    let mut h = keyed_hash_hex(key, base);
    h.truncate(16);
    h
}

/// CMD-TRACE-001 across a run's calls: `curl -o /tmp/x URL` in one call and
/// `/tmp/x` (or `python3 /tmp/p.py`, `Start-Process x.exe`, `cmd /c x.bat`, or an
/// archive downloaded earlier extracted and its script run) in a later one.
/// `memory` is the run's list of (name hash, from a trusted installer); this
/// call's downloads are added to it after it is judged. `fetched` is
/// [`fetched_by_command`] of `script`; `line` is the command line, cut for
/// the evidence only when a hit is raised.
pub(crate) fn across_calls(
    script: &Script,
    fetched: &[Fetched],
    tax: &Taxonomy,
    key: &[u8; 32],
    memory: &mut Vec<(String, bool)>,
    line: &str,
) -> Vec<Hit> {
    let earlier = memory.len();
    let mut hits = Vec::new();
    let mut folders: Vec<(String, bool)> = Vec::new();
    let mut ev: Option<String> = None;
    let own;
    let fetched = if fetched.len() == script.commands.len() {
        fetched
    } else {
        own = fetched_by_command(script, tax);
        &own
    };
    for (i, cmd) in script.commands.iter().enumerate() {
        if let Some(Some(files)) = fetched.get(i) {
            for (f, urls) in files {
                if f.is_empty()
                    || f == "-"
                    || f.starts_with("/dev/")
                    || memory.len() >= MAX_REMEMBERED
                {
                    continue;
                }
                let trusted = !urls.is_empty() && urls.iter().all(|u| tax.trusted_installer(u));
                let h = remembered_name(key, f);
                if !memory.iter().any(|(m, _)| *m == h) {
                    memory.push((h, trusted));
                }
            }
            continue;
        }
        if earlier == 0 {
            continue;
        }
        let known = |p: &str| {
            let h = remembered_name(key, p);
            memory[..earlier].iter().find(|(m, _)| *m == h).map(|m| m.1)
        };
        let name = cmd.name();
        if ["tar", "gtar", "bsdtar", "unzip", "7z", "7za"].contains(&name.as_str()) {
            let archive = cmd
                .args()
                .iter()
                .filter(|a| !a.starts_with('-'))
                .find_map(|a| known(a).map(|t| (a, t)));
            if let Some((a, t)) = archive {
                let this = [(normalise_path(a), Vec::new())];
                if let Some((dir, _)) = extracted_download(cmd, script, tax, &this) {
                    folders.push((dir, t));
                }
            }
            continue;
        }
        for ran in ran_files(cmd, tax) {
            let from = folders
                .iter()
                .find(|(d, _)| same_file(d, &ran))
                .map(|d| d.1)
                .or_else(|| known(&ran));
            let Some(trusted) = from else { continue };
            let ev = ev.get_or_insert_with(|| super::short(line));
            let hit = Hit::new(
                id::CMD_OBFUSCATED,
                format!("{name} runs {ran}, downloaded by an earlier call"),
                ev,
            )
            .key(&format!("fetched|{ran}"));
            hits.push(if trusted {
                hit.severity(Severity::Low)
            } else {
                hit
            });
            break;
        }
    }
    hits
}
