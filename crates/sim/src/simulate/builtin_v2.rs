//! The built-in scenarios of the X API v2 family: one per fault a v2 client must survive.
//! (`clean` and `finite` serve v2 streams too.)

use super::builtin::build;
use super::scenario::{Amount, Period, Scenario, Step};
use super::v2::problems::DISCONNECT_TYPES;

const FOREVER: Step = Step::Send(Amount::Forever);

/// The v2 built-in of that name.
pub(super) fn scenario(name: &str) -> Option<Scenario> {
    if let Some(kind) = name.strip_prefix("v2-disconnect-") {
        let kind = DISCONNECT_TYPES.iter().find(|t| **t == kind)?;
        let disconnect = Step::OperationalDisconnect {
            disconnect_type: (*kind).to_string(),
            detail: None,
        };
        return Some(build(
            name,
            &format!(
                "20 Posts then an operational-disconnect of type {kind}; later connections send forever"
            ),
            &[&[Step::Send(Amount::Events(20)), disconnect], &[FOREVER]],
        ));
    }
    let scenario = match name {
        "v2-usage-capped" => build(
            name,
            "the first request gets 429 usage-capped (Monthly, Product, reset in 2 s); later ones send forever",
            &[
                &[Step::UsageCapped {
                    period: "Monthly".into(),
                    scope: "Product".into(),
                    reset_secs: Some(2),
                }],
                &[FOREVER],
            ],
        ),
        "v2-gap" => {
            let mut s = build(
                name,
                "backfill minutes of 1 s: 100 Posts then an OperationalDisconnect; later connections send forever",
                &[
                    &[
                        Step::Send(Amount::Events(100)),
                        Step::OperationalDisconnect {
                            disconnect_type: "OperationalDisconnect".into(),
                            detail: None,
                        },
                    ],
                    &[FOREVER],
                ],
            );
            s.v2.minute_secs = 1.0;
            s
        }
        "v2-no-backfill" => {
            let mut s = build(
                name,
                "backfill_minutes is refused with 400; requests without it send forever",
                &[&[FOREVER]],
            );
            s.v2.backfill_refused = true;
            s
        }
        "v2-compliance" => {
            let mut s = build(
                name,
                "Post streams send 2000 Posts, each compliance partition 100 events drawn from \
                 the delivered ones (send_percent 5), then keep-alives",
                &[&[
                    Step::Send(Amount::Events(2000)),
                    Step::Idle(Period::Forever),
                ]],
            );
            s.v2.compliance.send_percent = 5;
            s
        }
        "v2-compliance-forever" => {
            let mut s = build(
                name,
                "Post streams send forever; each compliance partition sends events drawn from \
                 the delivered Posts at 5 per second",
                &[&[FOREVER]],
            );
            s.v2.compliance.rate = Some(5.0);
            s
        }
        "v2-stall" => build(
            name,
            "10 Posts then silence, keep-alives included; later connections send forever",
            &[
                &[Step::Send(Amount::Events(10)), Step::Stall(Period::Forever)],
                &[FOREVER],
            ],
        ),
        _ => return None,
    };
    Some(scenario)
}
