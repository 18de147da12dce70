//! `monitor` binary: parses the command line and wires the stages together.

use std::{
    fs::OpenOptions,
    io::{self, Write},
    path::Path,
    process::ExitCode,
    time::Duration,
};

use clap::{Parser, error::ErrorKind};
use monitor::{
    check,
    cli::{Cli, Command, RunArgs},
    pipeline::{Run, RunError},
};

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
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand | ErrorKind::MissingSubcommand => {
            fail("a command is required: run, or check (see monitor --help)")
        }
        _ => {
            let rendered = err.render().to_string();
            let first = rendered.lines().next().unwrap_or("invalid arguments");
            let first = first.trim_start_matches("error: ");
            fail(format_args!("{first} (see monitor --help)"))
        }
    }
}

fn check_host() -> ExitCode {
    let report = check::inspect(true);
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
    let config = args.to_config();
    if let Err(err) = config.validate() {
        return fail(format_args!("invalid configuration: {err}"));
    }
    if let Some(path) = &config.output.path
        && let Err(sentence) = output_writable(path)
    {
        return fail(sentence);
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
    let path = config.output.path.clone();
    let duration = args.duration.map(Duration::from_secs);
    let result = runtime.block_on(Run::new(config, duration).run(|| open_output(path.as_deref())));
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

fn open_output(path: Option<&Path>) -> io::Result<Box<dyn Write + Send>> {
    match path {
        None => Ok(Box::new(io::stdout())),
        Some(p) => Ok(Box::new(
            OpenOptions::new()
                .create(true)
                .truncate(true)
                .write(true)
                .open(p)?,
        )),
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
