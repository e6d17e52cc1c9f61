//! Outputs: everything a run leaves behind or shows. The result file and the terminal report
//! ([`report`]), the other formats ([`export`]), the live view ([`live`]), the history
//! database ([`history`]) and the side-by-side comparison of two runs ([`compare`]).

pub mod compare;
pub mod export;
pub mod history;
pub mod live;
pub mod merge;
pub mod records;
pub mod report;
