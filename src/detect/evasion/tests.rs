use super::*;
use crate::detect::shell::parse_script;
use crate::detect::taxonomy::{DetectionConfig, Taxonomy};

fn hits(line: &str) -> Vec<Hit> {
    let tax = Taxonomy::load(&DetectionConfig::default()).expect("tax");
    let s = parse_script(line, &tax);
    let mut h = script_hits(&s, line);
    for c in &s.commands {
        h.extend(name_hunt_hit(c, line));
    }
    h
}

fn rules(line: &str) -> Vec<(String, Severity)> {
    hits(line)
        .into_iter()
        .map(|h| (h.rule.to_string(), h.severity))
        .collect()
}

/// Every line raises `rule` at exactly `sev`.
#[track_caller]
fn each_raises(lines: &[&str], rule: &str, sev: Severity) {
    for line in lines {
        let r = rules(line);
        assert!(
            r.iter().any(|(id, s)| id == rule && *s == sev),
            "{line}: {r:?}"
        );
    }
}

#[test]
fn data_loads() {
    assert!(data().is_some());
}

#[test]
fn history_erased_or_switched_off_in_any_spelling() {
    each_raises(
        &[
            "history -c",
            "history -c && history -w",
            "unset HISTFILE",
            "export HISTFILE=/dev/null",
            "HISTSIZE=0",
            "export HISTFILESIZE=0 HISTSIZE=0",
            "set +o history",
            "rm -f ~/.bash_history ~/.zsh_history",
            "ln -sf /dev/null ~/.bash_history",
            "shred -u $HOME/.zsh_history",
            "cat /dev/null > ~/.bash_history",
            "truncate -s 0 /home/dev/.local/share/fish/fish_history",
        ],
        "CMD-TRACE-004",
        Severity::High,
    );
}

#[test]
fn logs_and_agent_transcripts_erased() {
    each_raises(
        &[
            "cat /dev/null > /var/log/auth.log",
            "sudo rm -rf /var/log/journal",
            "rm -rf ~/.claude/projects",
            "truncate -s 0 ~/.codex/sessions/2026/12/07/rollout.jsonl",
            "find ~/.gemini/tmp -delete; rm -r ~/.gemini/tmp",
            "rm -rf ~/.gemini/tmp/86bc0e27f2ba",
            "rm ~/.gemini/tmp/86bc0e27f2ba/chats/session-2026-01-01T01-15-376d5da4.json",
            "echo > ~/.gemini/tmp/86bc0e27f2ba/logs.json",
            "rm ~/.gemini/tmp/proj/checkpoint-before-refactor.json",
            "rm -r \"C:\\Users\\Mischa\\.gemini\\tmp\\5c9f9ba2\\chats\"",
        ],
        "CMD-TRACE-004",
        Severity::High,
    );
}

/// Gemini CLI's system prompt gives the model ~/.gemini/tmp/<project>/ as its
/// scratch folder: writing a batch file or a log there erases nothing (seen in
/// real sessions of `mischa-thisness/M-Gemini`, CC0: gpg parameter files and a
/// program's log written beside the project's chats).
#[test]
fn scratch_files_in_gemini_project_temp_folder_are_not_transcripts() {
    for line in [
        "flatpak run dev.edfloreshz.CosmicTweaks > ~/.gemini/tmp/cosmic_tweaks.log 2>&1 &",
        "echo \"Key-Type: RSA\" > /home/mischa/.gemini/tmp/86bc0e27f2ba/gpg_batch",
        "echo Key-Type: 1 > \"C:\\Users\\Mischa\\.gemini\\tmp\\5c9f9ba2\\gpg-gen-key.txt\"",
        "rm ~/.gemini/tmp/86bc0e27f2ba/plan.md",
    ] {
        assert!(
            !rules(line).iter().any(|(id, _)| id == "CMD-TRACE-004"),
            "{line}: {:?}",
            rules(line)
        );
    }
}

#[test]
fn defences_switched_off() {
    each_raises(
        &[
            "sudo iptables -F",
            "iptables --flush",
            "ufw disable",
            "sudo setenforce 0",
            "systemctl stop auditd",
            "sudo systemctl disable --now firewalld",
            "auditctl -e 0",
            "sudo spctl --master-disable",
            "journalctl --vacuum-time=1s",
        ],
        "CMD-TRACE-004",
        Severity::High,
    );
}

#[test]
fn fork_bombs_in_several_spellings() {
    for line in [
        ":(){ :|:& };:",
        ":(){ : | : & }; :",
        "bomb() { bomb | bomb & }; bomb",
        "function f() { f|f& }; f",
    ] {
        assert!(fork_bomb(line).is_some(), "{line}");
        assert!(
            rules(line).iter().any(|(id, _)| id == "CMD-TRACE-004"),
            "{line}"
        );
    }
    assert!(fork_bomb("f() { echo hi; }; f | f").is_none());
}

#[test]
fn credential_hunts_by_name_over_whole_trees() {
    each_raises(
        &[
            "find / -name '*.key' 2>/dev/null",
            "find ~ -iname 'id_rsa*' -type f",
            "find /home -name '*.kdbx'",
            "locate id_ed25519",
            "fd -H '.env' ~",
            "find $HOME -name credentials -path '*/.aws/*'",
        ],
        "PRB-TRACE-001",
        Severity::Medium,
    );
}

#[test]
fn system_path_programs_replaced() {
    each_raises(
        &[
            "ln -sf /tmp/.evil/git /usr/local/bin/git",
            "sudo cp /var/tmp/x /usr/bin/ssh",
        ],
        "CMD-TRACE-002",
        Severity::High,
    );
    each_raises(
        &["sudo cp target/release/tool /usr/local/bin/tool"],
        "CMD-TRACE-005",
        Severity::Medium,
    );
}

#[test]
fn honest_look_alikes_stay_quiet() {
    for line in [
        "history | tail -5",
        "export HISTSIZE=10000",
        "export HISTCONTROL=ignoredups",
        "tail -n 50 /var/log/syslog",
        "grep error /var/log/nginx/error.log",
        "ls ~/.claude/projects",
        "cat ~/.codex/sessions/2026/12/07/rollout.jsonl | wc -l",
        "echo note >> ~/.claude/projects/-home-dev-proj/memory/MEMORY.md",
        "rm -rf build/ dist/",
        "iptables -L -n",
        "ufw status",
        "getenforce",
        "systemctl status auditd",
        "find . -name '*.pem'",
        "find ~/.ssh -name '*.pub'",
        "find / -name 'libssl*' 2>/dev/null",
        "find ~ -name '*.py' -newer setup.py",
        "f() { echo hi; }; f",
        "ln -s ~/proj/bin/tool ~/.local/bin/tool",
        "cp build/tool ~/bin/tool",
    ] {
        let r = rules(line);
        assert!(
            r.iter().all(|(_, s)| *s < Severity::Medium),
            "{line}: {r:?}"
        );
    }
}

#[test]
fn forged_file_times_outside_the_project_hide_a_change() {
    each_raises(
        &[
            "touch -r /etc/passwd ~/.bashrc",
            "touch --reference=/bin/ls /usr/local/bin/git",
            "touch -d '2024-01-01 00:00' /home/dev/.ssh/authorized_keys",
            "touch -t 202401010000 ~/.config/systemd/user/sync.service",
            "touch -a -m -r /etc/hosts /etc/cron.d/job",
        ],
        "CMD-TRACE-004",
        Severity::High,
    );
    for line in [
        "touch -d '1 hour ago' build/stamp",
        "touch -r Cargo.toml src/main.rs",
        "touch -d @0 /tmp/fixture.txt",
        "touch ~/.bashrc",
        "touch -t 202401010000 tests/data/old.txt",
    ] {
        assert!(rules(line).is_empty(), "{line}: {:?}", rules(line));
    }
}
