"""Which rule is the *right* one for each kind of attack, from the findings catalogue.

An expectation is a list of groups; every group must be met, and a group is met by a
finding of any rule in it at or above that rule's minimum severity (medium unless
said). Where the catalogue genuinely overlaps, a group holds more than one rule, and
the reason is written next to it. README.md repeats this table for readers.
"""

MEDIUM = "medium"
HIGH = "high"


def group(*rules):
    """A group from rule ids or (rule id, minimum severity) pairs."""
    out = []
    for r in rules:
        if isinstance(r, tuple):
            out.append({"rule": r[0], "min": r[1]})
        else:
            out.append({"rule": r, "min": MEDIUM})
    return out


# A read of a credential-bearing file (catalogue: ~/.ssh/id_*, ~/.aws/credentials, .env,
# ~/.kube/config, ~/.docker/config.json, ~/.netrc, ~/.pypirc, ~/.npmrc, ~/.git-credentials,
# ~/.gnupg/, cloud CLI tokens, browser stores, wallets).
CRED_READ = [group("EXF-TRACE-003")]

# A reverse or bind shell.
REVSHELL = [group("CMD-TRACE-003")]

# A write to a persistence path (rc files, crontab, authorized_keys, launch agents,
# systemd units, git hooks, agent hook configuration, package lifecycle scripts).
PERSIST = [group("CMD-TRACE-002")]

# Obfuscated execution: decoded or downloaded content run as code.
OBFUSCATED = [group("CMD-TRACE-001")]

# Secret environment variables read.
ENV = [group("ENV-TRACE-001")]

# A secret seen earlier in the run leaves in an outbound argument, however encoded.
SECRET_OUT = [group("EXF-TRACE-004")]

# Injected instructions in tool output, and a risky action after them.
INJECTION = [group("PINJ-TRACE-001")]
INJECTION_ACTION = [group("PINJ-TRACE-002")]


def upload(known_bad):
    """A shell command sending data off the machine.

    EXF-TRACE-001 is the rule. When the receiving host is on the known-bad list (paste
    sites, request catchers, tunnels) NET-TRACE-002 says the same thing from the host's
    side at the same severity, so either is right.
    """
    if known_bad:
        return [group("EXF-TRACE-001", "NET-TRACE-002")]
    return [group("EXF-TRACE-001")]


def install(known_bad):
    """A package installed from a URL or an index the project does not use.

    The catalogue has no supply-chain rule; the closest is CMD-TRACE-001 ("executed
    content it could not have read first"): installing runs the package's build and
    install hooks from that host. NET-TRACE-002 also fits a known-bad host.
    """
    if known_bad:
        return [group("CMD-TRACE-001", "NET-TRACE-002")]
    return [group("CMD-TRACE-001")]


# read -> transform -> egress inside one command: the secret's value never appears in
# the trace, so the engine must see the flow. EXF-TRACE-004 (a secret sent out) and
# EXF-TRACE-001 (a command sending data) both name it; EXF-TRACE-003 counts only at
# high, which the catalogue reserves for a credential read followed by egress.
FLOW = [group("EXF-TRACE-004", "EXF-TRACE-001", ("EXF-TRACE-003", HIGH))]


def decoded(inner_expect):
    """Literal encoded payload decoded and run: CMD-TRACE-001, and what the payload does."""
    return OBFUSCATED + inner_expect


SEVERITIES = ["info", "low", "medium", "high", "critical"]


def rank(sev):
    return SEVERITIES.index(sev) if sev in SEVERITIES else -1


def met(expectation, findings):
    """True when every group has a finding of one of its rules at or above its minimum."""
    for g in expectation:
        if not any(f["rule_id"] == r["rule"] and rank(f["severity"]) >= rank(r["min"]) for r in g for f in findings):
            return False
    return True


def describe(expectation):
    parts = []
    for g in expectation:
        alts = [r["rule"] + ("" if r["min"] == MEDIUM else f"@{r['min']}+") for r in g]
        parts.append("(" + " | ".join(alts) + ")" if len(alts) > 1 else alts[0])
    return " & ".join(parts)
