//! A real child process for the TLS discovery tests, killed and reaped however the test ends.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
};

pub struct Running(Child);

impl Running {
    /// Starts `cmd` and waits for its first line on stdout (`ready`), so its libraries are
    /// mapped.
    pub fn start(cmd: &mut Command) -> Self {
        let mut child = cmd.stdout(Stdio::piped()).spawn().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready");
        Self(child)
    }

    /// Starts a python that has loaded `module`, once it says so.
    pub fn python(module: &str) -> Self {
        let code = format!("import {module}, time; print('ready', flush=True); time.sleep(30)");
        Self::start(Command::new("python3").args(["-c", &code]))
    }

    pub fn pid(&self) -> u32 {
        self.0.id()
    }

    /// Kills and reaps it now.
    pub fn stop(mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
