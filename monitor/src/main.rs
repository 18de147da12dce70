//! `monitor` binary: parses the command line and wires the stages together.

use std::{
    fs::OpenOptions,
    io::{self, Read, Write},
    path::{Path, PathBuf},
    process::ExitCode,
    time::Duration,
};

use clap::{Parser, error::ErrorKind};
use monitor::enforce::control::ControlRequest;
use monitor::{
    check,
    cli::{
        Cli, Command, OpenapiArgs, OutputArgs, RecordArgs, ReplayArgs, RulesArgs, RunArgs,
        StatusArgs,
    },
    config::Config,
    discovery::openapi,
    pipeline::{
        Run, RunError,
        live::Outputs,
        replay::{self, ReplayError},
    },
};
use sha2::{Digest, Sha256};

/// Exit code for bad input, missing privileges and unsupported hosts.
const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return clap_error(err),
    };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"))
        .format_target(false)
        .init();
    match cli.command {
        Command::Check => check_host(),
        Command::Run(args) => run(*args),
        Command::Record(args) => record(*args),
        Command::Replay(args) => replay_file(*args),
        Command::Schema => print_schema(),
        Command::Status(args) => print_status(&args),
        Command::Openapi(args) => print_openapi(&args),
        Command::Rules(args) => print_rules(&args),
        Command::Block(args) => control(
            &args.control_socket,
            ControlRequest::Block {
                target: args.target.target(),
                ttl_secs: args.ttl,
                reason: args.reason.clone(),
            },
            false,
        ),
        Command::Unblock(args) => control(
            &args.control_socket,
            ControlRequest::Unblock {
                target: args.target.target(),
            },
            false,
        ),
        Command::Blocks(args) => control(&args.control_socket, ControlRequest::List, args.json),
    }
}

/// `monitor block|unblock|blocks`: one request to the running monitor, its answer printed.
fn control(socket: &Path, request: ControlRequest, json: bool) -> ExitCode {
    use monitor::enforce::control;
    let reply = match control::request(socket, &request) {
        Ok(r) => r,
        Err(err @ control::ControlError::NotRunning { .. }) => {
            eprintln!("monitor: {err}");
            return ExitCode::from(EXIT_NOT_RUNNING);
        }
        Err(err) => return fail(err),
    };
    if !reply.ok {
        return fail(reply.error.as_deref().unwrap_or("the monitor refused"));
    }
    let text = if json {
        serde_json::to_string_pretty(&reply.decisions).unwrap_or_default() + "\n"
    } else {
        let verb = match request {
            ControlRequest::Block { .. } => "blocked",
            ControlRequest::Unblock { .. } => "unblocked",
            ControlRequest::List => "",
        };
        control::describe(&reply, verb, monitor::clock::unix_now_ns())
    };
    match io::stdout().write_all(text.as_bytes()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => fail(format_args!("cannot write the answer: {err}")),
    }
}

/// `monitor rules`: the effective detection rules as TOML.
fn print_rules(args: &RulesArgs) -> ExitCode {
    let rules = match args.detection.rules() {
        Ok(r) => r,
        Err(err) => return fail(err),
    };
    if let Err(err) = rules.validate() {
        return fail(err);
    }
    let agents = monitor::detection::behaviour::scanner::AgentList::new(&rules.scanner);
    let text = format!(
        "# Effective detection rules (defaults, then --rules, then flags).\n# scanner: {}\n\n{}",
        agents.describe(),
        rules.to_toml()
    );
    match io::stdout().write_all(text.as_bytes()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => fail(format_args!("cannot write the rules: {err}")),
    }
}

/// Exit code of `monitor status` when no monitor is running.
const EXIT_NOT_RUNNING: u8 = 1;

fn print_status(args: &StatusArgs) -> ExitCode {
    use monitor::tls::status::{self, StatusError};
    let doc = match status::read(&args.status_file) {
        Ok(doc) => doc,
        Err(err @ (StatusError::Missing(_) | StatusError::Stale { .. })) => {
            eprintln!("monitor: {err}");
            return ExitCode::from(EXIT_NOT_RUNNING);
        }
        Err(err) => return fail(err),
    };
    let text = if args.json {
        match serde_json::to_string_pretty(&doc) {
            Ok(t) => t + "\n",
            Err(err) => return fail(format_args!("cannot render the status: {err}")),
        }
    } else {
        doc.to_string()
    };
    match io::stdout().write_all(text.as_bytes()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => fail(format_args!("cannot write the status: {err}")),
    }
}

/// `monitor openapi`: the discovered API (from a replay or a running monitor's file), or its
/// differences from a spec.
fn print_openapi(args: &OpenapiArgs) -> ExitCode {
    let config = args.to_config();
    if let Err(err) = config.validate() {
        return fail(format_args!("invalid configuration: {err}"));
    }
    let doc = match &args.replay {
        Some(file) => {
            let input = match std::fs::File::open(file) {
                Ok(f) => f,
                Err(err) => return fail(format_args!("cannot open {}: {err}", file.display())),
            };
            // Actor ids are not part of the document: any key will do.
            let service = args.service.as_deref();
            match replay::replay_openapi(io::BufReader::new(input), &config, [0; 32], service) {
                Ok((summary, Some(doc))) => {
                    log::info!("{summary}");
                    doc
                }
                Ok((_, None)) => return fail("discovery is off"),
                Err(err) => return fail(format_args!("{}: {err}", file.display())),
            }
        }
        None => match std::fs::read(&args.file) {
            Ok(text) => match serde_json::from_slice::<serde_json::Value>(&text) {
                Ok(doc) => match &args.service {
                    Some(s) => filter_service(doc, s),
                    None => doc,
                },
                Err(err) => {
                    return fail(format_args!("{} is not JSON: {err}", args.file.display()));
                }
            },
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                return fail(format_args!(
                    "no monitor is running here: {} does not exist (start `monitor run`, or use --replay FILE)",
                    args.file.display()
                ));
            }
            Err(err) => return fail(format_args!("cannot read {}: {err}", args.file.display())),
        },
    };
    let out = match &args.diff {
        Some(spec_path) => {
            let text = match std::fs::read_to_string(spec_path) {
                Ok(t) => t,
                Err(err) => {
                    return fail(format_args!("cannot read {}: {err}", spec_path.display()));
                }
            };
            let spec = match openapi::parse_spec(&text) {
                Ok(s) => s,
                Err(err) => return fail(format_args!("{}: {err}", spec_path.display())),
            };
            serde_json::to_value(openapi::diff(&doc, &spec)).unwrap_or_default()
        }
        None => doc,
    };
    match serde_json::to_string_pretty(&out) {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(err) => fail(err),
    }
}

/// Keeps the operations whose `x-service` contains `service`.
fn filter_service(mut doc: serde_json::Value, service: &str) -> serde_json::Value {
    if let Some(paths) = doc.get_mut("paths").and_then(|p| p.as_object_mut()) {
        for item in paths.values_mut() {
            if let Some(ops) = item.as_object_mut() {
                ops.retain(|_, op| {
                    op.get("x-service")
                        .and_then(|s| s.as_str())
                        .is_some_and(|s| s.contains(service))
                });
            }
        }
        paths.retain(|_, item| item.as_object().is_some_and(|o| !o.is_empty()));
    }
    doc
}

fn print_schema() -> ExitCode {
    match monitor::export::schema::output_schema_text() {
        Ok(text) => match io::stdout().write_all(text.as_bytes()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => fail(format_args!("cannot write the schema: {err}")),
        },
        Err(err) => fail(format_args!("cannot render the schema: {err}")),
    }
}

fn fail(sentence: impl std::fmt::Display) -> ExitCode {
    eprintln!("monitor: {sentence}");
    ExitCode::from(EXIT_USAGE)
}

/// Help and version go to stdout with success; every other parse error is one sentence.
fn clap_error(err: clap::Error) -> ExitCode {
    match err.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = err.print();
            ExitCode::SUCCESS
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand | ErrorKind::MissingSubcommand => fail(
            "a command is required: run, record, replay, check, schema or status (see monitor --help)",
        ),
        _ => {
            let rendered = err.render().to_string();
            let first = rendered.lines().next().unwrap_or("invalid arguments");
            let first = first.trim_start_matches("error: ");
            fail(format_args!("{first} (see monitor --help)"))
        }
    }
}

fn check_host() -> ExitCode {
    let mut report = check::inspect(true);
    if report.blocker().is_none() {
        check::inspect_enforcement(&mut report);
    }
    print!("{report}");
    match report.blocker() {
        Some(sentence) => fail(sentence),
        None => {
            println!("the monitor can run on this host");
            ExitCode::SUCCESS
        }
    }
}

fn run(args: RunArgs) -> ExitCode {
    let config = match args.to_config() {
        Ok(c) => c,
        Err(err) => return fail(err),
    };
    let key = match redaction_key(&args.output) {
        Ok(k) => k,
        Err(sentence) => return fail(sentence),
    };
    let json = config.output.path.clone();
    let recording = args.record.clone();
    capture(
        config,
        args.capture.duration,
        key,
        move || {
            Ok(Outputs {
                json: open_output(json.as_deref())?,
                recording: recording.as_deref().map(create_private).transpose()?,
            })
        },
        args.record.as_deref(),
    )
}

fn record(args: RecordArgs) -> ExitCode {
    let config = args.to_config();
    let out = args.out.clone();
    // Only the recording: JSON lines (the final stats included) go nowhere.
    capture(
        config,
        args.capture.duration,
        [0; 32],
        move || {
            Ok(Outputs {
                json: Box::new(io::sink()),
                recording: Some(create_private(&out)?),
            })
        },
        Some(&args.out),
    )
}

/// Checks everything that can be checked before loading the probes, then captures.
fn capture(
    config: Config,
    duration: Option<u64>,
    key: [u8; 32],
    open: impl FnOnce() -> io::Result<Outputs>,
    recording: Option<&Path>,
) -> ExitCode {
    if let Err(err) = config.validate() {
        return fail(format_args!("invalid configuration: {err}"));
    }
    for path in config
        .output
        .path
        .iter()
        .map(PathBuf::as_path)
        .chain(recording)
    {
        if let Err(sentence) = output_writable(path) {
            return fail(sentence);
        }
    }
    if let Some(sentence) = check::inspect(true).blocker() {
        return fail(sentence);
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => return fail(format_args!("cannot start the async runtime: {err}")),
    };
    let duration = duration.map(Duration::from_secs);
    let result = runtime.block_on(Run::new(config, duration, key).run(open));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            if let RunError::Load(load) = &err
                && let Some(log) = load.verifier_log()
            {
                log::debug!("verifier log:\n{log}");
            }
            fail(err)
        }
    }
}

fn replay_file(args: ReplayArgs) -> ExitCode {
    if args.enforce == monitor::enforce::policy::Mode::On {
        return fail("a replay cannot block anything: use --enforce dry-run to see what would be");
    }
    let config = match args.to_config() {
        Ok(c) => c,
        Err(err) => return fail(err),
    };
    if let Err(err) = config.validate() {
        return fail(format_args!("invalid configuration: {err}"));
    }
    let key = match redaction_key(&args.output) {
        Ok(k) => k,
        Err(sentence) => return fail(sentence),
    };
    if let Some(path) = &config.output.path
        && let Err(sentence) = output_writable(path)
    {
        return fail(sentence);
    }
    let input = match std::fs::File::open(&args.file) {
        Ok(f) => f,
        Err(err) => return fail(format_args!("cannot open {}: {err}", args.file.display())),
    };
    let output = config.output.path.clone();
    let open = move || open_output(output.as_deref());
    match replay::replay(io::BufReader::new(input), &config, key, open) {
        Ok(summary) => {
            log::info!("{summary}");
            ExitCode::SUCCESS
        }
        Err(err @ ReplayError::Output(_)) => fail(err),
        Err(err) => fail(format_args!("{}: {err}", args.file.display())),
    }
}

/// The fingerprint key: SHA-256 of the key file, or random for this run.
fn redaction_key(args: &OutputArgs) -> Result<[u8; 32], String> {
    let mut bytes = Vec::new();
    match &args.redaction_key_file {
        Some(path) => {
            std::fs::File::open(path)
                .and_then(|mut f| f.read_to_end(&mut bytes))
                .map_err(|err| {
                    format!("cannot read the redaction key {}: {err}", path.display())
                })?;
            if bytes.len() < 16 {
                return Err(format!(
                    "the redaction key {} is shorter than 16 bytes",
                    path.display()
                ));
            }
        }
        None => {
            bytes.resize(32, 0);
            std::fs::File::open("/dev/urandom")
                .and_then(|mut f| f.read_exact(&mut bytes))
                .map_err(|err| format!("cannot read /dev/urandom for a redaction key: {err}"))?;
        }
    }
    Ok(Sha256::digest(&bytes).into())
}

fn create(path: &Path) -> io::Result<Box<dyn Write + Send>> {
    Ok(Box::new(
        OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .open(path)?,
    ))
}

/// Recordings hold unredacted payloads: readable by their owner only.
fn create_private(path: &Path) -> io::Result<Box<dyn Write + Send>> {
    use std::os::unix::fs::OpenOptionsExt;
    Ok(Box::new(
        OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .mode(0o600)
            .open(path)?,
    ))
}

fn open_output(path: Option<&Path>) -> io::Result<Box<dyn Write + Send>> {
    match path {
        None => Ok(Box::new(io::stdout())),
        Some(p) => create(p),
    }
}

/// Checks that `path` can be written without creating it yet (it is created only once the
/// probes are attached, so a failed start leaves nothing behind).
fn output_writable(path: &Path) -> Result<(), String> {
    if path.is_dir() {
        return Err(format!("output {} is a directory", path.display()));
    }
    let target = if path.exists() {
        path.to_path_buf()
    } else {
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => std::path::PathBuf::from("."),
        };
        if !parent.is_dir() {
            return Err(format!(
                "output directory {} does not exist",
                parent.display()
            ));
        }
        parent
    };
    let c = std::ffi::CString::new(target.as_os_str().as_encoded_bytes())
        .map_err(|_| format!("output path {} contains a NUL byte", path.display()))?;
    // SAFETY: valid NUL-terminated path.
    if unsafe { libc::access(c.as_ptr(), libc::W_OK) } != 0 {
        return Err(format!(
            "output {} is not writable: {}",
            path.display(),
            io::Error::last_os_error()
        ));
    }
    Ok(())
}
