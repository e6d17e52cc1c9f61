//! Standard output and standard error that never panic.
//!
//! `print!` panics when its stream is closed (`streamperf … | head -3`: Rust ignores SIGPIPE,
//! so the write fails with EPIPE). Every line streamperf prints goes through [`out!`],
//! [`outln!`] and [`errln!`] instead: the first failed write silences that stream for the rest
//! of the process, and nothing else changes: the run goes on and its files are written.
//!
//! [`out!`]: crate::out
//! [`outln!`]: crate::outln
//! [`errln!`]: crate::errln

use std::fmt;
use std::io::{self, ErrorKind, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once a write to stdout failed.
static STDOUT_GONE: AtomicBool = AtomicBool::new(false);
/// Set once a write to stderr failed.
static STDERR_GONE: AtomicBool = AtomicBool::new(false);

/// Silences stdout and stderr for the rest of the process. For tests that run streamperf
/// in-process and read the report from the returned value: these writes bypass the test
/// harness's capture, which only `print!` goes through.
#[doc(hidden)]
pub fn silence() {
    STDOUT_GONE.store(true, Ordering::Relaxed);
    STDERR_GONE.store(true, Ordering::Relaxed);
}

/// Writes to stdout, or nothing once stdout failed. Use [`out!`](crate::out) or
/// [`outln!`](crate::outln).
pub fn write_out(args: fmt::Arguments<'_>) {
    if let Err(e) = write(&STDOUT_GONE, &mut io::stdout().lock(), args) {
        // A closed pipe is what `| head` means: nothing to say. Anything else (a full disk
        // behind `> file`) is worth one line, if stderr still works.
        if e.kind() != ErrorKind::BrokenPipe {
            write_err(format_args!(
                "streamperf: warning: cannot write to standard output ({e}); printing stops, \
                 the run goes on\n"
            ));
        }
    }
}

/// Writes to stderr, or nothing once stderr failed. Use [`errln!`](crate::errln).
pub fn write_err(args: fmt::Arguments<'_>) {
    let _ = write(&STDERR_GONE, &mut io::stderr().lock(), args);
}

/// Writes and flushes `args`, unless `gone`; a failure sets `gone` and is returned once.
fn write(gone: &AtomicBool, stream: &mut impl Write, args: fmt::Arguments<'_>) -> io::Result<()> {
    if gone.load(Ordering::Relaxed) {
        return Ok(());
    }
    let written = stream.write_fmt(args).and_then(|()| stream.flush());
    if written.is_err() {
        gone.store(true, Ordering::Relaxed);
    }
    written
}

/// `print!` that never panics: see the [module](crate::console).
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::console::write_out(format_args!($($arg)*))
    };
}

/// `println!` that never panics: see the [module](crate::console).
#[macro_export]
macro_rules! outln {
    () => {
        $crate::console::write_out(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::console::write_out(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `eprintln!` that never panics: see the [module](crate::console).
#[macro_export]
macro_rules! errln {
    () => {
        $crate::console::write_err(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::console::write_err(format_args!("{}\n", format_args!($($arg)*)))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stream whose reader went away.
    struct Closed(u32);

    impl Write for Closed {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            self.0 += 1;
            Err(ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_failed_write_silences_the_stream_for_good() {
        let gone = AtomicBool::new(false);
        let mut closed = Closed(0);
        let first = write(&gone, &mut closed, format_args!("a line\n"));
        assert_eq!(first.unwrap_err().kind(), ErrorKind::BrokenPipe);
        assert!(gone.load(Ordering::Relaxed));
        assert!(write(&gone, &mut closed, format_args!("another\n")).is_ok(), "silent");
        assert_eq!(closed.0, 1, "never tried again");

        let open = AtomicBool::new(false);
        let mut buffer = Vec::new();
        write(&open, &mut buffer, format_args!("x={}\n", 1)).unwrap();
        assert_eq!((buffer.as_slice(), open.load(Ordering::Relaxed)), (&b"x=1\n"[..], false));
    }
}
