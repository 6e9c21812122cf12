//! The environment a stdio server starts with: cleared, then the few variables a program on a
//! desktop needs to run, passed through from Sirocco's own, then exactly what its entry
//! declares ([`server_environment`]).
//!
//! Sirocco's environment holds things no tool server should see: `HF_TOKEN`, the local API's
//! `SIROCCO_API_KEY`, cloud credentials (`AWS_SECRET_ACCESS_KEY`…), whatever the shell that
//! started it exported. An inherited environment would hand them all to `npx some-server`.
//! This keeps them from reaching a server by accident (a server that logs or reports its
//! environment, a crash report). It is no sandbox: a server runs as the user and can read what
//! the user can.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};

/// The variables passed through, by name. What a program run from a desktop needs, and why:
const PASSED_THROUGH: &[&str] = &[
    // Finding programs (`npx`, `node`, `uvx`, `python`, `docker`), and the user's home:
    // npm's cache and config (`~/.npm`, `~/.npmrc`), uv's (`~/.cache/uv`), pip's, `~/.config`.
    "PATH",
    "HOME",
    // Who the user is (some tools read it instead of asking the system).
    "USER",
    "LOGNAME",
    // Servers that run commands pick the user's shell; some programs refuse to start without
    // a terminal type even when none is attached.
    "SHELL",
    "TERM",
    // Text: the language and encoding (Python decodes its I/O with it), time zone (`LC_*`
    // below).
    "LANG",
    "LANGUAGE",
    "TZ",
    // Where temporary files go (macOS sets a per-user one).
    "TMPDIR",
    // The desktop: servers that open a browser or a window, show a notification or use the
    // session bus (`XDG_*` below: the runtime folder, config/data/cache folders, the session).
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "DBUS_SESSION_BUS_ADDRESS",
    // The network's way out: without a proxy a network that requires one cannot be reached,
    // and `npx`/`uvx` cannot fetch the server itself.
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "ALL_PROXY",
    // Certificates to trust (paths to public files): behind a TLS-inspecting proxy uv, Python's
    // HTTP clients and Node refuse every connection without them. NODE_EXTRA_CA_CERTS is the
    // one `NODE_*` kept: the others (NODE_OPTIONS, NODE_PATH) change how Node runs Sirocco's
    // children and are no business of a server.
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "NODE_EXTRA_CA_CERTS",
    "REQUESTS_CA_BUNDLE",
    // Windows: without SYSTEMROOT programs fail to start their network; the others are the
    // user's folders and how commands are found.
    "SYSTEMROOT",
    "SYSTEMDRIVE",
    "WINDIR",
    "COMSPEC",
    "PATHEXT",
    "APPDATA",
    "LOCALAPPDATA",
    "USERPROFILE",
    "HOMEDRIVE",
    "HOMEPATH",
    "USERNAME",
    "TEMP",
    "TMP",
    "PROGRAMFILES",
    "PROCESSOR_ARCHITECTURE",
];

/// The variables passed through, by the start of their names: locale categories (`LC_ALL`,
/// `LC_CTYPE`…) and the XDG desktop variables (`XDG_RUNTIME_DIR`, `XDG_CONFIG_HOME`,
/// `XDG_DATA_HOME`, `XDG_CACHE_HOME`, `XDG_DATA_DIRS`, `XDG_CURRENT_DESKTOP`…): folders and the
/// session's kind, never credentials.
const PASSED_THROUGH_PREFIXES: &[&str] = &["LC_", "XDG_"];

/// Whether the variable `name` of Sirocco's environment reaches a server. Names are compared
/// without case: Windows ignores it, and proxies are set as `https_proxy` as often as
/// `HTTPS_PROXY`.
pub fn is_passed_through(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    PASSED_THROUGH.contains(&upper.as_str()) || PASSED_THROUGH_PREFIXES.iter().any(|p| upper.starts_with(p))
}

/// The environment of a server whose entry declares `declared`, started from a process whose
/// environment is `parent` (`std::env::vars_os()`): the variables [`is_passed_through`] lets
/// through, then `declared` (which wins over them). A value starting with `()` (a shell
/// function exported by bash) is not passed through, as the MCP SDKs do.
pub fn server_environment(
    parent: impl IntoIterator<Item = (OsString, OsString)>,
    declared: &BTreeMap<String, String>,
) -> BTreeMap<OsString, OsString> {
    let mut env: BTreeMap<OsString, OsString> = parent
        .into_iter()
        .filter(|(name, value)| {
            name.to_str().is_some_and(is_passed_through) && !value.as_encoded_bytes().starts_with(b"()")
        })
        .collect();
    env.extend(declared.iter().map(|(k, v)| (OsStr::new(k).to_owned(), OsStr::new(v).to_owned())));
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parent(vars: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        vars.iter().map(|(k, v)| (OsString::from(k), OsString::from(v))).collect()
    }

    #[test]
    fn a_server_gets_the_desktops_variables_and_its_own_never_sirocco_s_secrets() {
        let env = server_environment(
            parent(&[
                ("PATH", "/usr/bin:/bin"),
                ("HOME", "/home/me"),
                ("LANG", "en_GB.UTF-8"),
                ("LC_TIME", "de_DE.UTF-8"),
                ("XDG_RUNTIME_DIR", "/run/user/1000"),
                ("XDG_CACHE_HOME", "/home/me/.cache"),
                ("DISPLAY", ":0"),
                ("https_proxy", "http://proxy:3128"),
                ("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt"),
                ("HF_TOKEN", "hf_secret"),
                ("SIROCCO_API_KEY", "sk-local"),
                ("AWS_SECRET_ACCESS_KEY", "aws"),
                ("OPENAI_API_KEY", "sk-openai"),
                ("NODE_OPTIONS", "--require /tmp/x.js"),
                ("LD_PRELOAD", "/tmp/x.so"),
                ("BASH_FUNC_f%%", "() { echo; }"),
                ("TERM", "() { :; }; echo pwned"),
            ]),
            &BTreeMap::from([("DEBUG".into(), "1".into()), ("PATH".into(), "/opt/server/bin".into())]),
        );
        let names: Vec<&str> = env.keys().map(|k| k.to_str().unwrap()).collect();
        assert_eq!(
            names,
            [
                "DEBUG",
                "DISPLAY",
                "HOME",
                "LANG",
                "LC_TIME",
                "PATH",
                "SSL_CERT_FILE",
                "XDG_CACHE_HOME",
                "XDG_RUNTIME_DIR",
                "https_proxy"
            ]
        );
        assert_eq!(env[OsStr::new("PATH")], "/opt/server/bin", "the entry's own value wins");
        assert_eq!(env[OsStr::new("HOME")], "/home/me");
    }

    #[test]
    fn the_allow_list_names_what_servers_need_and_nothing_secret() {
        for name in
            ["PATH", "HOME", "USER", "LANG", "LC_ALL", "TZ", "TMPDIR", "XDG_CONFIG_HOME", "DBUS_SESSION_BUS_ADDRESS"]
        {
            assert!(is_passed_through(name), "{name}");
        }
        for name in [
            "HF_TOKEN",
            "SIROCCO_API_KEY",
            "AWS_ACCESS_KEY_ID",
            "GITHUB_TOKEN",
            "NODE_OPTIONS",
            "PYTHONPATH",
            "SSH_AUTH_SOCK",
        ] {
            assert!(!is_passed_through(name), "{name}");
        }
        // No name on the list says key, token, secret or password.
        for name in PASSED_THROUGH.iter().chain(PASSED_THROUGH_PREFIXES) {
            assert!(!crate::is_secret_env(name), "{name}");
        }
    }
}
