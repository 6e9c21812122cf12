//! One Sirocco per data folder (`sirocco_runtime::instance`), with real locks and sockets in a
//! temporary folder: a second launch is forwarded to the first, waits for one that is closing,
//! and takes over from one that died.

use sirocco_runtime::instance::{claim, Claim};

fn first(dir: &std::path::Path) -> sirocco_runtime::instance::Instance {
    match claim(dir, &[], false).expect("claims") {
        Claim::First(instance) => instance,
        Claim::Forwarded => panic!("forwarded to an instance that does not exist"),
    }
}

#[test]
fn a_second_launch_is_forwarded_to_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let instance = first(dir.path());
    let second = std::thread::spawn({
        let dir = dir.path().to_owned();
        move || {
            matches!(
                claim(&dir, &["/models/a b.gguf".into(), "relative.gguf".into()], false).expect("claims"),
                Claim::Forwarded
            )
        }
    });
    let launch = instance.next().expect("the second launch asks");
    assert_eq!(
        launch.open,
        [std::path::PathBuf::from("/models/a b.gguf")],
        "the files it was asked to open (full paths)"
    );
    launch.answer(true);
    assert!(second.join().unwrap(), "the second launch was forwarded");
    // The lock and the socket are the user's alone, like the rest of the data folder.
    use std::os::unix::fs::PermissionsExt;
    for file in ["instance.lock", "instance.sock"] {
        let mode = std::fs::metadata(dir.path().join(file)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o077, 0, "{file} is {mode:o}");
    }
}

#[test]
fn a_launch_while_the_first_closes_waits_and_becomes_first() {
    let dir = tempfile::tempdir().unwrap();
    let instance = first(dir.path());
    let second = std::thread::spawn({
        let dir = dir.path().to_owned();
        move || matches!(claim(&dir, &[], false).expect("claims"), Claim::First(_))
    });
    // The first is closing: it says so, then ends (its lock and socket go).
    instance.next().expect("the second launch asks").answer(false);
    drop(instance);
    assert!(second.join().unwrap(), "the second launch became the first");
}

#[test]
fn what_a_dead_instance_left_does_not_stop_the_next() {
    let dir = tempfile::tempdir().unwrap();
    // A socket file with nobody behind it, as a killed instance leaves it.
    std::fs::write(dir.path().join("instance.sock"), b"").unwrap();
    let instance = first(dir.path());
    // And its own socket answers.
    let second = std::thread::spawn({
        let dir = dir.path().to_owned();
        move || matches!(claim(&dir, &[], false).expect("claims"), Claim::Forwarded)
    });
    instance.next().unwrap().answer(true);
    assert!(second.join().unwrap());
}

#[test]
fn a_hidden_launch_asks_for_no_window() {
    let dir = tempfile::tempdir().unwrap();
    let instance = first(dir.path());
    let second = std::thread::spawn({
        let dir = dir.path().to_owned();
        move || matches!(claim(&dir, &[], true).expect("claims"), Claim::Forwarded)
    });
    let launch = instance.next().unwrap();
    assert!(!launch.show, "started at login while Sirocco runs: no window comes forward");
    launch.answer(true);
    assert!(second.join().unwrap());
}

#[test]
fn a_request_that_is_not_a_launch_is_refused_and_an_older_launch_is_understood() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let instance = first(dir.path());
    let mut stream = std::os::unix::net::UnixStream::connect(dir.path().join("instance.sock")).unwrap();
    stream.write_all(b"{\"open\": []}\n").unwrap();
    assert!(instance.next().is_err(), "not a launch's request");
    // An older Sirocco's bare "show" (an upgrade while the old one runs in the tray).
    let mut stream = std::os::unix::net::UnixStream::connect(dir.path().join("instance.sock")).unwrap();
    stream.write_all(b"show\n").unwrap();
    let launch = instance.next().expect("an older launch asks");
    assert!(launch.show && launch.open.is_empty());
}

#[test]
fn a_launch_reaches_an_older_first_one_that_knows_only_show() {
    use std::io::{BufRead, Write};
    let dir = tempfile::tempdir().unwrap();
    // An older first instance: the lock held, a socket that hangs up on anything but "show".
    let lock = std::fs::File::create(dir.path().join("instance.lock")).unwrap();
    lock.try_lock().unwrap();
    let listener = std::os::unix::net::UnixListener::bind(dir.path().join("instance.sock")).unwrap();
    let older = std::thread::spawn(move || {
        let mut asked = Vec::new();
        for stream in listener.incoming().take(2) {
            let mut stream = stream.unwrap();
            let mut line = String::new();
            std::io::BufReader::new(&stream).read_line(&mut line).unwrap();
            if line == "show\n" {
                stream.write_all(b"ok\n").unwrap();
            }
            asked.push(line);
        }
        asked
    });
    assert!(matches!(claim(dir.path(), &[], false).unwrap(), Claim::Forwarded));
    let asked = older.join().unwrap();
    assert!(asked[0].starts_with('{') && asked[1] == "show\n", "{asked:?}");
}
