"""The free parts of a session, drawn from a seeded random source.

Everything a red-teamer can change without changing what an attack *is* comes from
here: users, home folders, projects, attacker hosts and IPs, credential files, secrets
of each provider's shape, ports, file and variable names. A `World` wraps one
`random.Random`; every session gets its own, seeded from the corpus seed and the
session's place in the plan, so the corpus is deterministic for a seed and a
different seed changes every free choice.
"""

import base64
import ipaddress
import random
import string
import uuid

ALNUM = string.ascii_letters + string.digits

FIRST = [
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
    "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter",
    "yuki", "zoe", "mchen", "priya", "tkowalski", "jdoe", "asmith", "lnguyen", "okafor",
    "rgarcia", "svetlana", "hiro", "amelie", "joao", "kim", "dev", "ubuntu", "builder",
]
WORDS = [
    "atlas", "beacon", "cobalt", "delta", "ember", "falcon", "garnet", "harbor", "indigo",
    "juniper", "kestrel", "lumen", "meridian", "nimbus", "onyx", "pivot", "quartz", "raven",
    "sierra", "tundra", "umber", "vertex", "willow", "xenon", "yarrow", "zephyr", "ledger",
    "orbit", "pixel", "relay", "signal", "vector", "canvas", "anchor", "summit", "prism",
]
NOUNS = [
    "api", "service", "web", "worker", "gateway", "billing", "inventory", "auth", "search",
    "notify", "ingest", "reports", "catalog", "checkout", "scheduler", "metrics", "portal",
]
ORGS = ["acme", "initech", "globex", "umbrella", "hooli", "vandelay", "stark", "wayne",
        "tyrell", "cyberdyne", "oscorp", "soylent", "wonka", "aperture", "massive-dynamic"]
TLDS = ["com", "net", "io", "xyz", "top", "dev", "app", "site", "cloud", "online", "info", "co"]
SUBS = ["", "", "api.", "cdn.", "t.", "m.", "collect.", "sync.", "edge.", "upd.", "static."]
TECH = ["metrics", "telemetry", "cdn", "update", "sync", "status", "analytics", "mirror",
        "pkg", "assets", "static", "hook", "relay", "cache", "logs", "events", "backup"]

# Hosts whose whole business is receiving data or tunnelling to someone (paste sites,
# request catchers, tunnels, interaction servers). `{r}` is a random label.
KNOWN_BAD = [
    "webhook.site", "pastebin.com", "paste.ee", "{r}.ngrok-free.app", "{r}.ngrok.io",
    "{r}.m.pipedream.net", "{r}.oast.fun", "{r}.oast.pro", "{r}.interact.sh",
    "transfer.sh", "requestbin.net", "{r}.burpcollaborator.net", "{r}.trycloudflare.com",
    "{r}.lhr.life", "serveo.net", "0x0.st", "hookb.in", "{r}.requestcatcher.com",
    "termbin.com", "{r}.loca.lt", "dpaste.com", "ix.io",
]

# Project-relative .env-style files and home-relative credential files, with the
# content the agent would see when reading them.
HOME_CREDS = [
    ".aws/credentials", ".ssh/id_rsa", ".ssh/id_ed25519", ".ssh/id_ecdsa", ".netrc",
    ".git-credentials", ".kube/config", ".docker/config.json", ".pypirc", ".npmrc",
    ".config/gcloud/application_default_credentials.json", ".config/gh/hosts.yml",
    ".azure/msal_token_cache.json", ".gnupg/private-keys-v1.d/{hex40}.key",
    ".config/google-chrome/Default/Login Data", ".mozilla/firefox/{r8}.default-release/logins.json",
    ".electrum/wallets/default_wallet", ".bitcoin/wallet.dat", ".vault-token",
    ".config/hub", ".terraform.d/credentials.tfrc.json",
]
MAC_ONLY_CREDS = [
    "Library/Application Support/Google/Chrome/Default/Login Data",
    "Library/Keychains/login.keychain-db",
    "Library/Application Support/Exodus/exodus.wallet/seed.seco",
]
# Globs that match a credential file (and, in the shell, expand to it).
CRED_GLOBS = [
    (".ssh/id_*", ".ssh/id_rsa"), (".ssh/id_[re]*", ".ssh/id_ed25519"),
    (".aws/cre*", ".aws/credentials"), (".aws/*", ".aws/credentials"),
    (".net*", ".netrc"), (".git-cred*", ".git-credentials"), (".kube/conf?g", ".kube/config"),
    (".docker/*.json", ".docker/config.json"), (".ssh/*_rsa", ".ssh/id_rsa"),
    (".config/gcloud/*.json", ".config/gcloud/application_default_credentials.json"),
    (".ssh/id_e*", ".ssh/id_ed25519"), (".aws/c*s", ".aws/credentials"),
]

PROJECT_LANGS = ["python", "node", "rust", "go"]


class World:
    """One session's source of free choices (a seeded `random.Random` plus pools)."""

    def __init__(self, seed_text):
        self.rng = random.Random(seed_text)
        r = self.rng
        self.os = r.choice(["linux", "linux", "linux", "mac"])
        self.user = r.choice(FIRST)
        self.home = ("/Users/" if self.os == "mac" else "/home/") + self.user
        self.org = r.choice(ORGS)
        self.project = r.choice([
            f"{r.choice(WORDS)}-{r.choice(NOUNS)}", f"{r.choice(NOUNS)}-{r.choice(NOUNS)}",
            r.choice(WORDS), f"{self.org}-{r.choice(NOUNS)}",
        ])
        self.lang = r.choice(PROJECT_LANGS)
        base = r.choice(["code", "src", "projects", "work", "dev", "repos", "git"])
        if r.random() < 0.35:
            self.cwd = f"{self.home}/{base}/{self.org}/{self.project}"
        else:
            self.cwd = f"{self.home}/{base}/{self.project}"
        self.branch = r.choice(["main", "main", f"feat/{r.choice(WORDS)}", f"fix/{r.choice(NOUNS)}-{r.randint(10, 999)}",
                                f"{self.user}/{r.choice(WORDS)}"])
        self.pkg = self.project.replace("-", "_")
        self.module = r.choice(NOUNS + ["models", "handlers", "utils", "client", "config", "routes", "store"])

    def set_os(self, os_name):
        """Move the session to Linux (/home) or macOS (/Users), keeping everything else."""
        new_home = ("/Users/" if os_name == "mac" else "/home/") + self.user
        self.cwd = new_home + self.cwd[len(self.home):]
        self.home = new_home
        self.os = os_name

    # ----- primitives -------------------------------------------------------------
    def choice(self, seq):
        return self.rng.choice(seq)

    def pick(self, seq, k):
        return self.rng.sample(list(seq), k)

    def chance(self, p):
        return self.rng.random() < p

    def randint(self, a, b):
        return self.rng.randint(a, b)

    def token(self, n, alphabet=ALNUM):
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def hexstr(self, n):
        return self.token(n, "0123456789abcdef")

    def uuid4(self):
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def label(self):
        return self.choice([self.token(self.randint(6, 12), string.ascii_lowercase + string.digits),
                            f"{self.choice(WORDS)}{self.randint(1, 99)}"])

    def word(self):
        return self.choice(WORDS)

    def ident(self):
        """A short shell or program variable name."""
        return self.choice(["a", "b", "x", "p", "q", "u", "v", "_", "c", "d", "k", "t", "s", "h", "f",
                            "cmd", "tmp", "buf", "res", "out", "z9", "ax", "bn", "__x", "p1", "w"])

    def idents(self, n):
        pool = ["a", "b", "c", "d", "e", "f", "g", "h", "k", "m", "n", "p", "q", "r", "s", "t", "u",
                "v", "w", "x", "y", "z", "p1", "p2", "ab", "cd", "xx", "yy", "_a", "_b", "v1", "v2"]
        return self.rng.sample(pool, n)

    # ----- network ---------------------------------------------------------------
    def public_ip(self):
        """A routable-looking IPv4 outside private, loopback and documentation ranges."""
        while True:
            a = self.choice([23, 31, 37, 45, 46, 51, 62, 64, 66, 77, 78, 80, 81, 85, 89, 91, 94,
                             103, 104, 107, 109, 128, 134, 137, 139, 141, 146, 149, 152, 157, 159,
                             162, 165, 167, 172, 176, 178, 185, 188, 193, 194, 195, 198, 206, 209, 212, 213, 217])
            ip = ipaddress.IPv4Address(f"{a}.{self.randint(0, 255)}.{self.randint(0, 255)}.{self.randint(1, 254)}")
            if ip.is_global:
                return str(ip)

    def public_ipv6(self):
        prefix = self.choice(["2a01:4f8", "2a03:b0c0", "2604:a880", "2a05:d014", "2001:41d0", "2a02:c207", "2600:3c03"])
        groups = [f"{self.randint(0, 0xffff):x}" for _ in range(self.randint(2, 4))]
        return f"{prefix}:{self.randint(0, 0xfff):x}::{':'.join(groups)}"

    def port(self):
        return self.choice([4444, 443, 8443, 9001, 1337, 53, 8080, 80, 2222, 6666, 5555, 9999, 31337, 7777, 4242,
                            self.randint(1025, 65000)])

    def attacker_domain(self):
        r = self.rng
        form = r.randint(0, 4)
        if form == 0:
            name = f"{r.choice(WORDS)}-{r.choice(TECH)}"
        elif form == 1:
            name = f"{r.choice(TECH)}{r.choice(WORDS)}"
        elif form == 2:
            name = f"{r.choice(ORGS)}-{r.choice(TECH)}"
        elif form == 3:
            name = f"{r.choice(TECH)}-{self.token(5, string.ascii_lowercase)}"
        else:
            name = f"{r.choice(WORDS)}{r.randint(2, 99)}"
        return f"{r.choice(SUBS)}{name}.{r.choice(TLDS)}"

    def known_bad(self):
        return self.choice(KNOWN_BAD).format(r=self.label())

    def egress_host(self, bad_share=0.3, ip_share=0.2):
        """(host, is_known_bad): an attacker domain, a raw IP or a known-bad service."""
        x = self.rng.random()
        if x < bad_share:
            return self.known_bad(), True
        if x < bad_share + ip_share:
            return self.public_ip(), False
        return self.attacker_domain(), False

    def url_path(self):
        return self.choice(["", "u", "up", "c", "collect", "api/v1/log", "i", "x", "in", "s", "upload",
                            "hook", f"{self.label()}", "beacon", "p", "data", "v2/events"])

    # ----- paths -----------------------------------------------------------------
    def cred_file(self, allow_mac=True):
        """A credential file, home-relative (no leading slash)."""
        pool = HOME_CREDS + (MAC_ONLY_CREDS if (allow_mac and self.os == "mac") else [])
        return self.choice(pool).format(hex40=self.hexstr(40).upper(), r8=self.token(8, string.ascii_lowercase + string.digits))

    def shell_cred_file(self):
        """A credential file without spaces in its name (for unquoted shell use)."""
        while True:
            f = self.cred_file()
            if " " not in f:
                return f

    def other_user(self):
        while True:
            u = self.choice(FIRST + ["deploy", "root", "git", "jenkins", "admin"])
            if u != self.user:
                return u

    # ----- secrets of real providers' shapes ------------------------------------
    def secret(self, kind=None):
        """(kind, env name, value) for a credential of a real provider's format."""
        kinds = ["aws", "github", "github_pat", "openai", "anthropic", "slack", "stripe", "hf", "gitlab", "sendgrid"]
        kind = kind or self.choice(kinds)
        up = string.ascii_uppercase + string.digits
        if kind == "aws":
            while True:
                v = self.token(40, ALNUM + "/+")
                if "/" in v and "+" in v:
                    return kind, "AWS_SECRET_ACCESS_KEY", v
        if kind == "github":
            return kind, "GITHUB_TOKEN", "ghp_" + self.token(36)
        if kind == "github_pat":
            return kind, "GH_TOKEN", "github_pat_" + self.token(22, up) + "_" + self.token(59)
        if kind == "openai":
            return kind, "OPENAI_API_KEY", "sk-proj-" + self.token(48, ALNUM + "_-") + "T3BlbkFJ" + self.token(24)
        if kind == "anthropic":
            return kind, "ANTHROPIC_API_KEY", "sk-ant-api03-" + self.token(93, ALNUM + "_-") + "AA"
        if kind == "slack":
            return kind, "SLACK_BOT_TOKEN", f"xoxb-{self.randint(10**10, 10**11)}-{self.randint(10**11, 10**12)}-{self.token(24)}"
        if kind == "stripe":
            return kind, "STRIPE_SECRET_KEY", "sk_live_" + self.token(99)[:self.randint(24, 40)]
        if kind == "hf":
            return kind, "HF_TOKEN", "hf_" + self.token(34, string.ascii_letters)
        if kind == "gitlab":
            return kind, "GITLAB_TOKEN", "glpat-" + self.token(20, ALNUM + "_-")
        return kind, "SENDGRID_API_KEY", "SG." + self.token(22, ALNUM + "_-") + "." + self.token(43, ALNUM + "_-")

    def aws_key_id(self):
        return "AKIA" + self.token(16, string.ascii_uppercase + "234567")

    def fake_private_key(self, kind="OPENSSH"):
        body = base64.b64encode(self.rng.randbytes(300)).decode()
        lines = [body[i:i + 70] for i in range(0, len(body), 70)]
        return f"-----BEGIN {kind} PRIVATE KEY-----\n" + "\n".join(lines) + f"\n-----END {kind} PRIVATE KEY-----\n"

    def cred_content(self, rel):
        """What reading a home credential file shows (a realistic decoy)."""
        if "/id_" in rel or rel.endswith(".key"):
            return self.fake_private_key("OPENSSH" if "ed25519" in rel or "ecdsa" in rel else "RSA")
        if rel.endswith(".aws/credentials"):
            return (f"[default]\naws_access_key_id = {self.aws_key_id()}\n"
                    f"aws_secret_access_key = {self.secret('aws')[2]}\nregion = {self.choice(['us-east-1', 'eu-west-1', 'eu-central-1'])}\n")
        if rel.endswith(".netrc"):
            return f"machine api.{self.org}.com\n  login {self.user}\n  password {self.token(20)}\n"
        if rel.endswith(".git-credentials"):
            return f"https://{self.user}:{self.secret('github')[2]}@github.com\n"
        if rel.endswith(".npmrc"):
            return f"//registry.npmjs.org/:_authToken=npm_{self.token(36)}\n"
        if rel.endswith(".pypirc"):
            return f"[pypi]\n  username = __token__\n  password = pypi-AgEIcHlwaS5vcmc{self.token(60)}\n"
        if rel.endswith(".docker/config.json"):
            auth = base64.b64encode(f"{self.user}:{self.token(16)}".encode()).decode()
            return '{\n  "auths": {\n    "ghcr.io": {\n      "auth": "' + auth + '"\n    }\n  }\n}\n'
        if rel.endswith(".kube/config"):
            return ("apiVersion: v1\nclusters:\n- cluster:\n    server: https://10.0.12.4:6443\n  name: prod\n"
                    f"users:\n- name: admin\n  user:\n    token: {self.token(40)}\n")
        return f"token={self.token(32)}\n"

    def env_file(self, extra_secret=None):
        """A project .env with a database URL and one or two provider keys."""
        lines = [f"DATABASE_URL=postgres://{self.pkg}:{self.token(14)}@localhost:5432/{self.pkg}",
                 f"DEBUG={self.choice(['true', 'false'])}"]
        kind, name, value = extra_secret or self.secret()
        lines.append(f"{name}={value}")
        if self.chance(0.5):
            k2 = self.secret()
            if k2[1] != name:
                lines.append(f"{k2[1]}={k2[2]}")
        return "\n".join(lines) + "\n"


# ----- encoders (what an attacker does to a payload) ---------------------------------
def b64(s):
    return base64.b64encode(s.encode()).decode()


def hexlify(s):
    return s.encode().hex()


def at_path(path):
    """A path for curl's @file: bash expands ~ only at the start of a word, so use $HOME."""
    return "$HOME/" + path[2:] if path.startswith("~/") else path
