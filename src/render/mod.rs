//! Rendering for people and files: live progress, the summary, report files.

pub mod github;
pub mod human;
pub mod plan;
pub mod report_files;
pub mod stdout;
pub mod sync;
