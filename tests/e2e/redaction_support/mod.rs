//! Shared by the redaction tests: generated fake secrets, one per built-in rule.
//!
//! Every fake secret is assembled at run time from pieces, so no secret-shaped
//! literal is committed (GitHub push protection and our own scanner would flag it).
#![allow(dead_code)]

/// Deterministic random-looking string over `alphabet`.
pub fn rnd(n: usize, seed: u64, alphabet: &str) -> String {
    let a = alphabet.as_bytes();
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            a[((x >> 33) % a.len() as u64) as usize] as char
        })
        .collect()
}
pub const ALNUM: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
pub const UPNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
pub const HEX: &str = "0123456789abcdef";
pub const B64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
pub fn alnum(n: usize, seed: u64) -> String {
    rnd(n, seed, ALNUM)
}

/// (rule, text around the secret, the secret value that must disappear).
pub fn planted() -> Vec<(&'static str, String, String)> {
    let mut v: Vec<(&'static str, String, String)> = Vec::new();
    let mut add = |rule: &'static str, secret: String, ctx: &dyn Fn(&str) -> String| {
        v.push((rule, ctx(&secret), secret));
    };
    let body = format!(
        "{}\n{}\n{}",
        rnd(64, 1, B64),
        rnd(64, 2, B64),
        rnd(20, 3, B64)
    );
    add(
        "private_key",
        format!(
            "-----BEGIN RSA PRIVATE {}-----\n{body}\n-----END RSA PRIVATE {}-----",
            "KEY", "KEY"
        ),
        &|s| format!("$ cat id_rsa\n{s}\n$ ls"),
    );
    add(
        "age_secret_key",
        format!("AGE-SECRET-KEY-1{}", rnd(58, 4, UPNUM)),
        &|s| format!("key: {s}"),
    );
    add(
        "putty_private_key",
        format!("{}\n{}", rnd(64, 70, B64), rnd(40, 71, B64)),
        &|s| {
            format!(
                "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nPublic-Lines: 1\n{}\nPrivate-Lines: 2\n{s}\nPrivate-MAC: {}",
                rnd(60, 72, B64),
                rnd(64, 73, HEX)
            )
        },
    );
    add(
        "anthropic_admin_key",
        format!("sk-ant-admin01-{}", alnum(60, 5)),
        &|s| format!("ADMIN={s}"),
    );
    add(
        "anthropic_api_key",
        format!("sk-ant-api03-{}", alnum(90, 6)),
        &|s| format!("ANTHROPIC_API_KEY={s}"),
    );
    add(
        "openrouter_api_key",
        format!("sk-or-v1-{}", rnd(64, 7, HEX)),
        &|s| format!("key {s} used"),
    );
    add(
        "openai_api_key",
        format!("sk-proj-{}", alnum(120, 8)),
        &|s| format!("client = OpenAI(api_key=\"{s}\")"),
    );
    add("groq_api_key", format!("gsk_{}", alnum(52, 9)), &|s| {
        format!("GROQ={s}")
    });
    add("xai_api_key", format!("xai-{}", alnum(80, 10)), &|s| {
        format!("XAI={s}")
    });
    add(
        "perplexity_api_key",
        format!("pplx-{}", alnum(48, 11)),
        &|s| format!("P={s}"),
    );
    add(
        "replicate_api_token",
        format!("r8_{}", alnum(37, 12)),
        &|s| format!("R={s}"),
    );
    add("huggingface_token", format!("hf_{}", alnum(34, 13)), &|s| {
        format!("login {s}")
    });
    add("google_api_key", format!("AIza{}", alnum(35, 14)), &|s| {
        format!("?key={s}&q=1")
    });
    add(
        "google_oauth_refresh_token",
        format!("1//0{}", alnum(60, 15)),
        &|s| format!("refresh {s}"),
    );
    add(
        "google_oauth_access_token",
        format!("ya29.{}", alnum(80, 16)),
        &|s| format!("access {s}"),
    );
    add("gcp_private_key_id", rnd(40, 17, HEX), &|s| {
        format!("private_key_id = \"{s}\"")
    });
    add(
        "aws_access_key_id",
        format!("AKIA{}", rnd(16, 18, UPNUM)),
        &|s| format!("id {s} ok"),
    );
    add("aws_secret_access_key", alnum(40, 19), &|s| {
        format!("[default]\naws_secret_access_key = {s}\n")
    });
    add("aws_session_token", rnd(200, 20, B64), &|s| {
        format!("aws_session_token={s}")
    });
    add(
        "azure_storage_key",
        format!("{}==", rnd(86, 21, B64)),
        &|s| {
            format!("DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={s};EndpointSuffix=core.windows.net")
        },
    );
    add(
        "azure_sas_signature",
        format!("{}%3D", alnum(43, 22)),
        &|s| format!("https://acct.blob.core.windows.net/c/b.txt?sv=2022-11-02&sp=r&sig={s}"),
    );
    add("github_token", format!("ghp_{}", alnum(36, 23)), &|s| {
        format!("git push https://x:{s}@github.com")
    });
    add(
        "github_fine_grained_pat",
        format!("github_pat_{}_{}", alnum(22, 24), alnum(59, 25)),
        &|s| format!("GH={s}"),
    );
    add("gitlab_token", format!("glpat-{}", alnum(20, 26)), &|s| {
        format!("token {s}")
    });
    add(
        "slack_token",
        format!(
            "xoxb-{}-{}-{}",
            rnd(12, 27, "0123456789"),
            rnd(13, 28, "0123456789"),
            alnum(24, 29)
        ),
        &|s| format!("SLACK {s}"),
    );
    add(
        "slack_webhook",
        format!(
            "https://hooks.slack.com/services/T{}/B{}/{}",
            rnd(8, 30, UPNUM),
            rnd(10, 31, UPNUM),
            alnum(24, 32)
        ),
        &|s| format!("curl -X POST {s}"),
    );
    add(
        "discord_webhook",
        format!(
            "https://discord.com/api/webhooks/{}/{}",
            rnd(18, 33, "0123456789"),
            alnum(68, 34)
        ),
        &|s| format!("post to {s}"),
    );
    add(
        "telegram_bot_token",
        format!("{}:AA{}", rnd(9, 35, "123456789"), alnum(33, 36)),
        &|s| format!("BOT={s}"),
    );
    add(
        "stripe_secret_key",
        format!("sk_{}_{}", "live", alnum(24, 37)),
        &|s| format!("stripe.api_key = '{s}'"),
    );
    add(
        "stripe_webhook_secret",
        format!("whsec_{}", alnum(32, 38)),
        &|s| format!("WH {s}"),
    );
    add(
        "stripe_publishable_key",
        format!("pk_{}_{}", "test", alnum(24, 39)),
        &|s| format!("PK {s}"),
    );
    add("twilio_key", format!("SK{}", rnd(32, 40, HEX)), &|s| {
        format!("TWILIO_API_KEY_SID {s}")
    });
    add(
        "sendgrid_api_key",
        format!("SG.{}.{}", alnum(22, 41), alnum(43, 42)),
        &|s| format!("sg {s}"),
    );
    add("npm_token", format!("npm_{}", alnum(36, 43)), &|s| {
        format!("NPM {s}")
    });
    add("npmrc_auth_token", rnd(36, 44, HEX), &|s| {
        format!("//registry.npmjs.org/:_authToken={s}")
    });
    add(
        "pypi_token",
        format!("pypi-AgEIcHlwaS5vcmc{}", alnum(70, 45)),
        &|s| format!("password = {s}"),
    );
    add(
        "digitalocean_token",
        format!("dop_v1_{}", rnd(64, 46, HEX)),
        &|s| format!("DO {s}"),
    );
    add(
        "cloud_platform_token",
        format!("dapi{}", rnd(32, 74, HEX)),
        &|s| format!("databricks configure --token {s}"),
    );
    add(
        "saas_api_token",
        format!("lin_api_{}", alnum(40, 75)),
        &|s| format!("linear key {s} in use"),
    );
    add(
        "jwt",
        format!(
            "eyJ{}.eyJ{}.{}",
            alnum(30, 47),
            alnum(60, 48),
            alnum(43, 49)
        ),
        &|s| format!("jwt: {s}"),
    );
    add("bearer_token", alnum(40, 50), &|s| {
        format!("curl -H 'X: Bearer {s}'")
    });
    add("authorization_header", alnum(24, 51), &|s| {
        format!("Authorization: Basic {s}")
    });
    add("api_key_header", alnum(40, 52), &|s| {
        format!("curl -H \"x-api-key: {s}\" https://api")
    });
    add(
        "cookie_header",
        format!("session={}", alnum(32, 53)),
        &|s| format!("Cookie: {s}\r\nHost: x"),
    );
    add("url_credentials", format!("Pw{}", alnum(12, 54)), &|s| {
        format!("DATABASE_URL=postgres://admin:{s}@db.internal:5432/app")
    });
    add("curl_basic_auth", format!("Pw{}", alnum(12, 55)), &|s| {
        format!("curl -u admin:{s} https://x")
    });
    add(
        "docker_login_password",
        format!("Pw{}", alnum(14, 76)),
        &|s| format!("docker login -u ci -p {s} reg.test"),
    );
    add("netrc_password", format!("Pw{}", alnum(14, 77)), &|s| {
        format!("machine api.test login me password {s}\n")
    });
    add(
        "docker_config_auth",
        format!("Y2k6UHc{}", alnum(20, 78)),
        &|s| {
            format!("$ cat ~/.docker/config.json\n{{\"auths\": {{\"reg.test\": {{\"auth\": \"{s}\"}}}}}}")
        },
    );
    add("cli_secret_flag", format!("Pw{}", alnum(12, 56)), &|s| {
        format!("mysql --password {s} -h db")
    });
    add("secret_assignment", format!("Pw{}", alnum(12, 57)), &|s| {
        format!("DB_PASSWORD={s}\nHOME=/root")
    });
    add("email", "alice.smith@corp-mail.example".into(), &|s| {
        format!("contact {s} today")
    });
    add(
        "credit_card",
        ["4111", "1111", "1111", "1111"].join(" "),
        &|s| format!("card: {s} exp 12/29"),
    );
    add("us_ssn", ["123", "45", "6789"].join("-"), &|s| {
        format!("SSN {s}.")
    });
    add(
        "iban",
        ["DE89", "3704", "0044", "0532", "0130", "00"].join(" "),
        &|s| format!("IBAN: {s}"),
    );
    add("phone", ["+1", "415", "555", "2671"].join("-"), &|s| {
        format!("call {s} now")
    });
    v
}
