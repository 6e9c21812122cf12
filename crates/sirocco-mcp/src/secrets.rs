//! Secrets in a server's entry, and the system keyring they are kept in instead of `mcp.json`.
//!
//! A secret sits in one of four places: a header's value (every one: `Authorization`,
//! `X-Api-Key`…), an environment variable named like a key, token or password, a command-line
//! argument (`--api-key sk-…`, `--token=…`, `GITHUB_TOKEN=…`, `Authorization: Bearer …`, a URL's
//! `?api_key=…`, or a value shaped like a well-known kind of key, `ghp_…`, `hf_…`), or the URL of
//! a Streamable HTTP server (a query parameter named like a key, a password before the `@`, a
//! key-shaped path segment). [`ServerEntry::take_secrets`] moves each into the keyring, leaving
//! [`SECRET_PLACEHOLDER`] where it was; [`ServerEntry::with_secrets`] puts them back when the
//! server starts. Each place has its own keyring account, `mcp/<server>/<kind>/<name>`
//! ([`secret_account`]): `header/<name>`, `env/<name>`, `arg/<index>` (plus the URL part below
//! when the argument is a URL), `url/query/<name>`, `url/userinfo`, `url/path/<index>`.
//!
//! Finding them is pure string work ([`secrets_in_args`], [`secrets_in_url`]) so that it can be
//! tested on its own, and so that the same finder serves taking, restoring, the entry's
//! one-line description and its identity ([`crate::fingerprint`]) alike. It errs towards taking:
//! a value taken by mistake still reaches the server (put back when it starts) and only reads
//! as a placeholder in the file, while a secret missed stays in plain text.

use std::ops::Range;

use crate::{McpError, ServerEntry};

/// What `mcp.json` holds in place of a secret the system keyring keeps (Sirocco's own
/// placeholder: another app reading the file sees that the value is kept elsewhere).
pub const SECRET_PLACEHOLDER: &str = "${keyring}";

/// Words in an environment variable's name that make its value a secret.
const SECRET_ENV_WORDS: [&str; 6] = ["KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "AUTH"];

/// Whether the value of the environment variable `name` is kept in the keyring.
pub fn is_secret_env(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    SECRET_ENV_WORDS.iter().any(|w| upper.contains(w))
}

/// The keyring account of server `server`'s secret `name` (`kind`: `header`, `env`, `arg` or `url`).
pub fn secret_account(server: &str, kind: &str, name: &str) -> String {
    format!("mcp/{server}/{kind}/{name}")
}

/// Words of an option's, a query parameter's or a header's name that say its value is a secret.
/// Whole words (`--author` is not `auth`), found by [`words`].
const SECRET_WORDS: [&str; 14] = [
    "key",
    "apikey",
    "token",
    "secret",
    "password",
    "passwd",
    "pwd",
    "auth",
    "authorization",
    "credential",
    "credentials",
    "bearer",
    "pat",
    "sig",
];

/// Words that say a name is *about* a secret rather than holding one: `--key-file` holds a path,
/// `--token-url` an address, `--api-key-env` a variable's name, `--token-limit` a number.
const NOT_SECRET_WORDS: [&str; 20] = [
    "file", "path", "dir", "url", "uri", "endpoint", "env", "var", "name", "type", "id", "method", "mode", "scheme",
    "provider", "limit", "length", "size", "count", "timeout",
];

/// The lower-case words of `name`: split at anything not a letter or digit and where a lower-case
/// letter meets an upper-case one (`apiKey`, `--api-key`, `API_KEY` are all `api`, `key`).
fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        let boundary = !c.is_ascii_alphanumeric() || (previous_lower && c.is_ascii_uppercase());
        if boundary && !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
        if c.is_ascii_alphanumeric() {
            word.push(c.to_ascii_lowercase());
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// Whether an option (`--api-key`, `-token`), a `NAME=` (`GITHUB_TOKEN`), a query parameter
/// (`api_key`, `apiKey`, `sig`) or a header (`Authorization`) named `name` holds a secret.
pub fn is_secret_name(name: &str) -> bool {
    let words = words(name);
    // `--no-auth` switches something off; it holds nothing.
    if words.first().is_some_and(|w| w == "no") {
        return false;
    }
    words.iter().any(|w| SECRET_WORDS.contains(&w.as_str()))
        && !words.iter().any(|w| NOT_SECRET_WORDS.contains(&w.as_str()))
}

/// How well-known kinds of keys begin (OpenAI and Anthropic `sk-`, Stripe's, GitHub's, GitLab's,
/// Slack's, Hugging Face's, AWS access keys, Google API keys, npm's, PyPI's, Groq's, Tavily's…).
const TOKEN_PREFIXES: [&str; 26] = [
    "sk-",
    "sk_",
    "rk_",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "glpat-",
    "xoxb-",
    "xoxp-",
    "xoxa-",
    "xapp-",
    "hf_",
    "AKIA",
    "ASIA",
    "AIza",
    "ya29.",
    "npm_",
    "pypi-",
    "gsk_",
    "tvly-",
    "pplx-",
    "xai-",
    "lin_api_",
];

/// Shorter than this is not taken for a key by its shape alone (`sk-learn` is a word).
const MIN_TOKEN_LEN: usize = 20;

/// Whether `value` looks like a key by itself: a known prefix followed by key characters, 20 or
/// more in all, or a JSON Web Token (three base64url parts, the first `eyJ`).
pub fn looks_like_token(value: &str) -> bool {
    let key_chars = |s: &str| s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if value.len() < MIN_TOKEN_LEN || !key_chars(value) {
        return false;
    }
    if value.starts_with("eyJ") {
        return value.split('.').count() == 3;
    }
    TOKEN_PREFIXES.iter().any(|p| value.starts_with(p))
}

/// A secret (or the placeholder left for one) inside a string: where it is, and which part of the
/// string it is (empty for a whole argument; `query/<name>`, `userinfo` or `path/<index>` in a URL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretSpan {
    pub label: String,
    pub range: Range<usize>,
}

impl SecretSpan {
    fn whole(text: &str) -> Self {
        Self { label: String::new(), range: 0..text.len() }
    }

    fn shifted(mut self, by: usize) -> Self {
        self.range = self.range.start + by..self.range.end + by;
        self
    }
}

/// The secrets in a URL (`https://…`, and any other `scheme://`: a database's
/// `postgresql://user:password@host/db` is a server's argument as often), in the order they
/// appear: the password of `user:password@`, path segments shaped like keys, and query values
/// whose names say key, token, secret, password, auth or signature (or shaped like keys). A part
/// that is [`SECRET_PLACEHOLDER`] is one too (the place a secret was taken from). Not a URL: none.
pub fn secrets_in_url(url: &str) -> Vec<SecretSpan> {
    let Some(scheme_len) = url.find("://") else { return Vec::new() };
    let scheme = &url[..scheme_len];
    let is_scheme = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !is_scheme {
        return Vec::new();
    }
    let scheme_end = scheme_len + 3;
    let is_secret_value = |v: &str| v == SECRET_PLACEHOLDER || looks_like_token(v);
    let mut spans = Vec::new();
    let rest = &url[scheme_end..];
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_len];
    if let Some(at) = authority.rfind('@') {
        if let Some(colon) = authority[..at].find(':') {
            let start = scheme_end + colon + 1;
            if start < scheme_end + at {
                spans.push(SecretSpan { label: "userinfo".into(), range: start..scheme_end + at });
            }
        }
    }
    let path_start = scheme_end + authority_len;
    let fragment = url[path_start..].find('#').map_or(url.len(), |i| path_start + i);
    let query_start = url[path_start..fragment].find('?').map(|i| path_start + i);
    let path_end = query_start.unwrap_or(fragment);
    let mut offset = path_start;
    for (index, segment) in url[path_start..path_end].split('/').enumerate() {
        if !segment.is_empty() && is_secret_value(segment) {
            spans.push(SecretSpan { label: format!("path/{index}"), range: offset..offset + segment.len() });
        }
        offset += segment.len() + 1;
    }
    if let Some(query_start) = query_start {
        let mut offset = query_start + 1;
        for pair in url[query_start + 1..fragment].split('&') {
            if let Some((name, value)) = pair.split_once('=') {
                if !value.is_empty() && (is_secret_name(name) || is_secret_value(value)) {
                    let start = offset + name.len() + 1;
                    spans.push(SecretSpan { label: format!("query/{name}"), range: start..start + value.len() });
                }
            }
            offset += pair.len() + 1;
        }
    }
    spans
}

/// A `Name: value` argument whose name says it carries a secret (`Authorization: Bearer …`,
/// `X-API-Key: …`, as `mcp-remote --header` takes them): where its value is.
fn header_value(arg: &str) -> Option<Range<usize>> {
    let (name, value) = arg.split_once(':')?;
    let header_name = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !header_name || !is_secret_name(name) {
        return None;
    }
    let start = name.len() + 1 + (value.len() - value.trim_start().len());
    (start < arg.len()).then_some(start..arg.len())
}

/// The secrets in a command's arguments, each with the index of the argument holding it:
/// - the value of an option named like a secret: `--api-key VALUE`, `--token=VALUE`;
/// - the value of `NAME=VALUE` named like one (`-e GITHUB_TOKEN=…` for docker);
/// - the value of a `Name: value` header named like one (`--header "Authorization: Bearer …"`);
/// - a URL's secrets ([`secrets_in_url`]), alone or as an option's value;
/// - a value shaped like a key ([`looks_like_token`]), wherever it is;
/// - [`SECRET_PLACEHOLDER`] (where one was taken from).
pub fn secrets_in_args(args: &[String]) -> Vec<(usize, SecretSpan)> {
    let mut spans = Vec::new();
    let mut next_is_secret = false;
    for (index, arg) in args.iter().enumerate() {
        if std::mem::take(&mut next_is_secret) && !arg.is_empty() && !arg.starts_with('-') {
            spans.push((index, SecretSpan::whole(arg)));
            continue;
        }
        // `--name=value` or `NAME=value`: the name decides, else the value is looked at alone.
        let (name, value_start) = match arg.split_once('=') {
            Some((name, _)) if !name.is_empty() && !name.contains([' ', ':', '/']) => (name, name.len() + 1),
            _ => ("", 0),
        };
        let value = &arg[value_start..];
        if !name.is_empty() && is_secret_name(name) {
            if !value.is_empty() {
                spans.push((index, SecretSpan { label: String::new(), range: value_start..arg.len() }));
            }
            continue;
        }
        if name.is_empty() && arg.starts_with('-') {
            // `--api-key` alone: the next argument is its value.
            next_is_secret = is_secret_name(arg);
            continue;
        }
        let in_url = secrets_in_url(value);
        if !in_url.is_empty() {
            spans.extend(in_url.into_iter().map(|s| (index, s.shifted(value_start))));
        } else if value == SECRET_PLACEHOLDER || looks_like_token(value) {
            spans.push((index, SecretSpan { label: String::new(), range: value_start..arg.len() }));
        } else if let Some(range) = header_value(arg) {
            spans.push((index, SecretSpan { label: String::new(), range }));
        } else if let Some(at) = arg.find(SECRET_PLACEHOLDER) {
            // A placeholder the rules above no longer see (the file was edited around it).
            spans.push((index, SecretSpan { label: String::new(), range: at..at + SECRET_PLACEHOLDER.len() }));
        }
    }
    spans
}

/// `text` with each of `ranges` (in order, not overlapping) that is not already a placeholder
/// replaced by `with`.
fn mask(text: &str, ranges: impl IntoIterator<Item = Range<usize>>, with: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for range in ranges {
        out.push_str(&text[at..range.start]);
        let secret = &text[range.clone()];
        out.push_str(if secret == SECRET_PLACEHOLDER { secret } else { with });
        at = range.end;
    }
    out.push_str(&text[at..]);
    out
}

/// `args` with every secret not yet taken replaced by `with` (placeholders stay).
pub(crate) fn mask_args(args: &[String], with: &str) -> Vec<String> {
    let spans = secrets_in_args(args);
    args.iter()
        .enumerate()
        .map(|(i, arg)| mask(arg, spans.iter().filter(|(j, _)| *j == i).map(|(_, s)| s.range.clone()), with))
        .collect()
}

/// `url` with every secret not yet taken replaced by `with` (placeholders stay).
pub(crate) fn mask_url(url: &str, with: &str) -> String {
    mask(url, secrets_in_url(url).into_iter().map(|s| s.range), with)
}

/// A URL part's label ([`SecretSpan::label`]) as a user reads it.
fn url_part(label: &str) -> String {
    match label.split_once('/') {
        Some(("query", name)) => format!("`{name}`"),
        Some(("path", index)) => format!("path part {index}"),
        _ => "password".into(),
    }
}

/// Where one secret of an entry is.
enum Place {
    Header(String),
    Env(String),
    /// An argument (by index) and where in it.
    Arg(usize, Range<usize>),
    Url(Range<usize>),
}

/// One secret of an entry (or the placeholder left for it).
struct Slot {
    account: String,
    /// What the user reads in an error: "variable `GITHUB_TOKEN`", "value in `args[3]`".
    what: String,
    place: Place,
    value: String,
}

impl ServerEntry {
    /// Every place holding a secret or its placeholder, for the server `server`. Within one
    /// string the later places come first, so that replacing them in this order keeps the
    /// ranges of those still to do.
    fn secret_slots(&self, server: &str) -> Vec<Slot> {
        match self {
            Self::Http { url, headers } => {
                let mut slots: Vec<Slot> = headers
                    .iter()
                    .map(|(name, value)| Slot {
                        account: secret_account(server, "header", name),
                        what: format!("header `{name}`"),
                        place: Place::Header(name.clone()),
                        value: value.clone(),
                    })
                    .collect();
                slots.extend(secrets_in_url(url).into_iter().rev().map(|span| Slot {
                    account: secret_account(server, "url", &span.label),
                    what: format!("URL's {}", url_part(&span.label)),
                    value: url[span.range.clone()].to_owned(),
                    place: Place::Url(span.range),
                }));
                slots
            }
            Self::Stdio { args, env, .. } => {
                let mut slots: Vec<Slot> = env
                    .iter()
                    .filter(|(name, value)| {
                        is_secret_env(name) || value.as_str() == SECRET_PLACEHOLDER || looks_like_token(value)
                    })
                    .map(|(name, value)| Slot {
                        account: secret_account(server, "env", name),
                        what: format!("variable `{name}`"),
                        place: Place::Env(name.clone()),
                        value: value.clone(),
                    })
                    .collect();
                slots.extend(secrets_in_args(args).into_iter().rev().map(|(index, span)| {
                    let name =
                        if span.label.is_empty() { index.to_string() } else { format!("{index}/{}", span.label) };
                    Slot {
                        account: secret_account(server, "arg", &name),
                        what: format!("value in `args[{index}]`"),
                        value: args[index][span.range.clone()].to_owned(),
                        place: Place::Arg(index, span.range),
                    }
                }));
                slots
            }
        }
    }

    /// Puts `text` at `place`.
    fn put(&mut self, place: &Place, text: &str) {
        match (self, place) {
            (Self::Http { headers, .. }, Place::Header(name)) => {
                headers.insert(name.clone(), text.to_owned());
            }
            (Self::Http { url, .. }, Place::Url(range)) => url.replace_range(range.clone(), text),
            (Self::Stdio { env, .. }, Place::Env(name)) => {
                env.insert(name.clone(), text.to_owned());
            }
            (Self::Stdio { args, .. }, Place::Arg(index, range)) => args[*index].replace_range(range.clone(), text),
            _ => unreachable!("a slot's place is of its own entry's kind"),
        }
    }

    /// Moves this entry's secrets out (every header value; environment values whose names say
    /// key, token, secret, password or auth; secrets in its arguments or URL, as
    /// [`secrets_in_args`] and [`secrets_in_url`] find them), leaving [`SECRET_PLACEHOLDER`] in
    /// their place: the keyring accounts and values to keep, for the server `server`.
    pub fn take_secrets(&mut self, server: &str) -> Vec<(String, String)> {
        let mut taken = Vec::new();
        for slot in self.secret_slots(server) {
            if slot.value.is_empty() || slot.value == SECRET_PLACEHOLDER {
                continue;
            }
            self.put(&slot.place, SECRET_PLACEHOLDER);
            taken.push((slot.account, slot.value));
        }
        taken
    }

    /// The keyring accounts this entry's placeholders stand for.
    pub fn secret_accounts(&self, server: &str) -> Vec<String> {
        self.secret_slots(server).into_iter().filter(|s| s.value == SECRET_PLACEHOLDER).map(|s| s.account).collect()
    }

    /// This entry with each placeholder replaced by the secret `lookup` finds for its account
    /// (the server `server`'s); a secret that is not there is an error naming it.
    pub fn with_secrets(
        &self,
        server: &str,
        mut lookup: impl FnMut(&str) -> Result<Option<String>, String>,
    ) -> Result<ServerEntry, McpError> {
        let mut entry = self.clone();
        for slot in self.secret_slots(server).into_iter().filter(|s| s.value == SECRET_PLACEHOLDER) {
            let what = &slot.what;
            let secret = match lookup(&slot.account) {
                Ok(Some(secret)) => secret,
                Ok(None) => {
                    return Err(McpError::Config(format!(
                        "server `{server}`: the {what} is kept in the system keyring, which does not have it \
                         (add the server again with its value)"
                    )))
                }
                Err(e) => {
                    return Err(McpError::Config(format!(
                        "server `{server}`: the {what} is kept in the system keyring, which could not be read: {e}"
                    )))
                }
            };
            entry.put(&slot.place, &secret);
        }
        Ok(entry)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    /// The secrets `secrets_in_args` finds, as (index, text).
    fn found(args: &[&str]) -> Vec<(usize, String)> {
        let args = strings(args);
        secrets_in_args(&args).into_iter().map(|(i, s)| (i, args[i][s.range].to_owned())).collect()
    }

    #[test]
    fn names_say_secret_by_whole_words() {
        for name in [
            "--api-key",
            "--apiKey",
            "-token",
            "--access-token",
            "--client-secret",
            "--password",
            "--auth",
            "--auth-header",
            "GITHUB_TOKEN",
            "api_key",
            "apikey",
            "key",
            "sig",
            "Authorization",
            "X-API-Key",
            "--pat",
        ] {
            assert!(is_secret_name(name), "{name}");
        }
        for name in [
            "--author",
            "--keyboard",
            "--key-file",
            "--token-url",
            "--api-key-env",
            "--max-tokens",
            "--token-limit",
            "--no-auth",
            "--port",
            "--pattern",
            "monkey",
            "--auth-type",
            "--key-id",
            "",
        ] {
            assert!(!is_secret_name(name), "{name}");
        }
    }

    #[test]
    fn values_shaped_like_keys_are_secrets_by_themselves() {
        for value in [
            "sk-proj-abcdefghijklmnopqrstuvwx",
            "sk-ant-api03-abcdefghijklmnop",
            "ghp_0123456789abcdefghijABCDEFGHIJ0123",
            "github_pat_11ABCDEFG0123456789_abc",
            "hf_abcdefghijklmnopqrstuvwxyzABCDEFGH",
            "AKIAIOSFODNN7EXAMPLE",
            "tvly-dev-0123456789abcdef",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
        ] {
            assert!(looks_like_token(value), "{value}");
        }
        for value in [
            "sk-learn",
            "@modelcontextprotocol/server-everything",
            "-y",
            "/home/me/notes",
            "hf_short",
            "eyJ-not-a-jwt-at-all-really",
            "sk-with spaces in it, a sentence",
            "https://example.com/sk-abcdefghijklmnopqrstuvwx",
        ] {
            assert!(!looks_like_token(value), "{value}");
        }
    }

    #[test]
    fn secrets_in_args_are_found_by_option_name_form_and_shape() {
        assert_eq!(found(&["server", "--api-key", "sk-1", "--port", "8080"]), [(2, "sk-1".into())]);
        assert_eq!(found(&["--token=abc", "--verbose"]), [(0, "abc".into())]);
        assert_eq!(found(&["run", "-e", "GITHUB_TOKEN=ghx", "-e", "GITHUB_TOKEN", "image"]), [(2, "ghx".into())]);
        assert_eq!(
            found(&["mcp-remote", "https://x.example/mcp", "--header", "Authorization: Bearer abc"]),
            [(3, "Bearer abc".into())]
        );
        assert_eq!(found(&["--header", "X-API-Key:abc"]), [(1, "abc".into())]);
        assert_eq!(
            found(&["serve", "hf_abcdefghijklmnopqrstuvwxyz0123"]),
            [(1, "hf_abcdefghijklmnopqrstuvwxyz0123".into())]
        );
        assert_eq!(found(&["--config=sk-abcdefghijklmnopqrstuvwx"]), [(0, "sk-abcdefghijklmnopqrstuvwx".into())]);
        // A URL among the arguments, alone or as an option's value: its secrets, not all of it.
        assert_eq!(
            found(&["mcp-remote", "https://mcp.example/sse?api_key=k1&region=eu", "--url=https://a:pw@b.example/"]),
            [(1, "k1".into()), (2, "pw".into())]
        );
        assert_eq!(found(&["-y", "server-postgres", "postgresql://app:pw@localhost/db"]), [(2, "pw".into())]);
        // An option named like a secret followed by another option has no value.
        assert_eq!(found(&["--auth", "--verbose", "x"]), []);
        // Nothing secret: nothing found.
        assert_eq!(found(&["-y", "@modelcontextprotocol/server-filesystem", "/home/me", "--key-file", "/k.pem"]), []);
        // Placeholders are found where secrets were taken from, whatever is around them.
        assert_eq!(
            found(&["--api-key", SECRET_PLACEHOLDER, "--token=${keyring}", SECRET_PLACEHOLDER, "a${keyring}b"]),
            [
                (1, SECRET_PLACEHOLDER.into()),
                (2, SECRET_PLACEHOLDER.into()),
                (3, SECRET_PLACEHOLDER.into()),
                (4, SECRET_PLACEHOLDER.into())
            ]
        );
    }

    #[test]
    fn secrets_in_urls_are_query_values_passwords_and_key_shaped_segments() {
        let parts = |url: &str| -> Vec<(String, String)> {
            secrets_in_url(url).into_iter().map(|s| (s.label, url[s.range].to_owned())).collect()
        };
        assert_eq!(
            parts("https://mcp.example.com/mcp?api_key=abc&region=eu&token=t%2B1#frag"),
            [("query/api_key".into(), "abc".into()), ("query/token".into(), "t%2B1".into())]
        );
        assert_eq!(parts("http://user:hunter2@127.0.0.1:9000/mcp"), [("userinfo".into(), "hunter2".into())]);
        assert_eq!(
            parts("https://actions.example.com/mcp/sk-ak-abcdefghijklmnopqrstu/sse"),
            [("path/2".into(), "sk-ak-abcdefghijklmnopqrstu".into())]
        );
        assert_eq!(
            parts("https://x.example/mcp?apiKey=a&sig=b&limit=3"),
            [("query/apiKey".into(), "a".into()), ("query/sig".into(), "b".into())]
        );
        assert_eq!(parts("https://x.example/mcp?version=2&key="), [], "an empty value is nothing to keep");
        assert_eq!(parts("https://x.example/mcp"), []);
        assert_eq!(parts("postgresql://app:s3cret@db.local:5432/notes"), [("userinfo".into(), "s3cret".into())]);
        assert_eq!(parts("see: the/docs?token=x"), [], "not a URL");
        assert_eq!(parts("--url://x?token=y"), [], "not a scheme");
        assert_eq!(parts("http://user@host/mcp"), [], "a user without a password");
        assert_eq!(
            mask_url("https://u:p@h.example/mcp?token=t&x=1", "***"),
            "https://u:***@h.example/mcp?token=***&x=1"
        );
    }

    #[test]
    fn secrets_leave_the_file_for_the_keyring_and_come_back_when_the_server_starts() {
        let mut remote = ServerEntry::Http {
            url: "https://example.com/mcp".into(),
            headers: BTreeMap::from([
                ("Authorization".into(), "Bearer sk-1".into()),
                ("X-Empty".into(), String::new()),
            ]),
        };
        let taken = remote.take_secrets("remote");
        assert_eq!(taken, [("mcp/remote/header/Authorization".to_owned(), "Bearer sk-1".to_owned())]);
        let text = serde_json::to_string(&remote).unwrap();
        assert!(!text.contains("sk-1") && text.contains(SECRET_PLACEHOLDER), "{text}");
        assert!(remote.take_secrets("remote").is_empty(), "taken once");
        assert_eq!(remote.secret_accounts("remote"), ["mcp/remote/header/Authorization"]);
        let kept: BTreeMap<String, String> = taken.into_iter().collect();
        let started = remote.with_secrets("remote", |account| Ok(kept.get(account).cloned())).unwrap();
        assert!(matches!(&started, ServerEntry::Http { headers, .. } if headers["Authorization"] == "Bearer sk-1"));

        // Variables: only those whose names say they are secrets (or whose values look like keys).
        let mut local = ServerEntry::Stdio {
            command: "npx".into(),
            args: vec![],
            env: BTreeMap::from([
                ("GITHUB_TOKEN".into(), "ghp_x".into()),
                ("DEBUG".into(), "1".into()),
                ("CONFIG".into(), "sk-abcdefghijklmnopqrstuvwx".into()),
            ]),
            cwd: None,
        };
        assert_eq!(
            local.take_secrets("gh"),
            [
                ("mcp/gh/env/CONFIG".to_owned(), "sk-abcdefghijklmnopqrstuvwx".to_owned()),
                ("mcp/gh/env/GITHUB_TOKEN".to_owned(), "ghp_x".to_owned())
            ]
        );
        assert!(matches!(&local, ServerEntry::Stdio { env, .. } if env["DEBUG"] == "1"));
        // The keyring lost it, or cannot be read: an error naming the variable, not a start
        // with the placeholder as its value.
        let lost = local.with_secrets("gh", |_| Ok(None)).unwrap_err().to_string();
        assert!(lost.contains("variable `CONFIG`") && lost.contains("does not have it"), "{lost}");
        let locked = local.with_secrets("gh", |_| Err("locked".into())).unwrap_err().to_string();
        assert!(locked.contains("could not be read: locked"), "{locked}");
        assert!(is_secret_env("OPENAI_API_KEY") && is_secret_env("db_password") && !is_secret_env("PATH"));
    }

    #[test]
    fn secrets_in_args_and_urls_go_to_the_keyring_and_come_back_in_place() {
        let raw_args = strings(&[
            "-y",
            "some-server",
            "--api-key",
            "sk-abcdefghijklmnopqrstuvwx",
            "--token=tok-1",
            "https://u:pw@api.example.com/v1?key=k1&x=1",
            "--verbose",
        ]);
        let raw = ServerEntry::Stdio { command: "npx".into(), args: raw_args.clone(), env: BTreeMap::new(), cwd: None };
        let mut kept = raw.clone();
        let taken = kept.take_secrets("s");
        assert_eq!(
            taken.iter().map(|(a, v)| (a.as_str(), v.as_str())).collect::<Vec<_>>(),
            [
                ("mcp/s/arg/5/query/key", "k1"),
                ("mcp/s/arg/5/userinfo", "pw"),
                ("mcp/s/arg/4", "tok-1"),
                ("mcp/s/arg/3", "sk-abcdefghijklmnopqrstuvwx"),
            ]
        );
        let ServerEntry::Stdio { args, .. } = &kept else { unreachable!() };
        assert_eq!(
            args,
            &strings(&[
                "-y",
                "some-server",
                "--api-key",
                "${keyring}",
                "--token=${keyring}",
                "https://u:${keyring}@api.example.com/v1?key=${keyring}&x=1",
                "--verbose"
            ])
        );
        assert!(kept.take_secrets("s").is_empty(), "taken once");
        let mut accounts = kept.secret_accounts("s");
        accounts.sort();
        let mut want: Vec<String> = taken.iter().map(|(a, _)| a.clone()).collect();
        want.sort();
        assert_eq!(accounts, want);
        let store: BTreeMap<String, String> = taken.into_iter().collect();
        assert_eq!(kept.with_secrets("s", |a| Ok(store.get(a).cloned())).unwrap(), raw, "every secret back in place");
        let lost = kept.with_secrets("s", |_| Ok(None)).unwrap_err().to_string();
        assert!(lost.contains("args[") && lost.contains("does not have it"), "{lost}");

        // A Streamable HTTP server's URL.
        let raw = ServerEntry::Http {
            url: "https://mcp.example.com/mcp?api_key=abc&region=eu".into(),
            headers: BTreeMap::new(),
        };
        let mut kept = raw.clone();
        let taken = kept.take_secrets("r");
        assert_eq!(taken, [("mcp/r/url/query/api_key".to_owned(), "abc".to_owned())]);
        assert_eq!(kept.describe(), "https://mcp.example.com/mcp?api_key=${keyring}&region=eu");
        let store: BTreeMap<String, String> = taken.into_iter().collect();
        assert_eq!(kept.with_secrets("r", |a| Ok(store.get(a).cloned())).unwrap(), raw);
        let lost = kept.with_secrets("r", |_| Ok(None)).unwrap_err().to_string();
        assert!(lost.contains("URL's `api_key`"), "{lost}");
    }
}
