//! What publishing to GitHub did, in words (not the types' `Debug` form).

use driftsync_github::checks::CheckOutcome;
use driftsync_github::comment::CommentOutcome;

/// `PR comment: created (#31)`, `… updated`, `… unchanged`, or why not.
pub fn comment(c: &CommentOutcome) -> String {
    match c {
        CommentOutcome::Created { id } => format!("PR comment: created (id {id})"),
        CommentOutcome::Updated { id } => format!("PR comment: updated (id {id})"),
        CommentOutcome::Unchanged { id } => format!("PR comment: unchanged (id {id})"),
        CommentOutcome::Forbidden { warning } => format!("PR comment: not written: {warning}"),
    }
}

/// `check run: created (id 5, 1 request(s))`, or why not.
pub fn check_run(c: &CheckOutcome) -> String {
    match c {
        CheckOutcome::Created { id, requests } => {
            format!("check run: created (id {id}, {requests} request(s))")
        }
        CheckOutcome::Forbidden { warning } => format!("check run: not created: {warning}"),
    }
}
