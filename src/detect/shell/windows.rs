//! Windows command lines spelt for the shell parser: the line `cmd /c` runs,
//! and PowerShell code with its paths written as the path rules read them.

/// The command line `cmd /c …` (or `/k`, `/r`) runs, spelt for the shell
/// parser: backslashes as `/`, cmd's `^` escapes dropped.
pub(super) fn cmd_exe_script(args: &[String]) -> Option<String> {
    let i = args
        .iter()
        .position(|a| ["/c", "/k", "/r"].contains(&a.to_ascii_lowercase().as_str()))?;
    let line = args[i + 1..].join(" ");
    (!line.trim().is_empty()).then(|| line.replace('\\', "/").replace('^', ""))
}

/// PowerShell code spelt for the shell parser: backslashes as `/`, and a path
/// under `$env:NAME` / `${env:NAME}` as under `%NAME%`, which the path rules know
/// (a variable read on its own stays as written, for the environment rules).
pub(super) fn pwsh_as_shell(code: &str) -> String {
    static ENV: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = ENV.get_or_init(|| {
        regex::Regex::new(r"(?i)\$\{env:(\w+)\}/|\$env:(\w+)/").expect("env pattern")
    });
    let code = code.replace('\\', "/");
    re.replace_all(&code, |c: &regex::Captures| {
        let name = c
            .get(1)
            .or_else(|| c.get(2))
            .map(|m| m.as_str())
            .unwrap_or("");
        format!("%{name}%/")
    })
    .into_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn powershell_paths_read_as_the_path_rules_spell_them() {
        assert_eq!(
            super::pwsh_as_shell(r"Get-Content $env:USERPROFILE\.aws\credentials"),
            "Get-Content %USERPROFILE%/.aws/credentials"
        );
        assert_eq!(
            super::pwsh_as_shell(r"Copy-Item ${env:APPDATA}\x \\host\share"),
            "Copy-Item %APPDATA%/x //host/share"
        );
        let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            super::cmd_exe_script(&args(&["/C", r"type %USERPROFILE%\.netrc"])).as_deref(),
            Some("type %USERPROFILE%/.netrc")
        );
        assert_eq!(super::cmd_exe_script(&args(&["/d"])), None);
        assert_eq!(
            super::pwsh_as_shell("echo $env:OPENAI_API_KEY"),
            "echo $env:OPENAI_API_KEY"
        );
    }
}
