//! The call model: every event Bulutfon sent for one uuid, assembled into one [`Call`].
//!
//! Assembly is a pure function of the *set* of events, so the arrival order (a hang-up can
//! arrive before its call_init) and redeliveries never change the result.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use serde_json::{Map, Value};

use crate::phone;
use crate::time::micros_to_rfc3339;
use crate::webhook::{cdr_time_us, scalar_text, CallEvent, EventType, RouteType};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum CallKind {
    Call,
    Fax,
}

impl CallKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CallKind::Call => "call",
            CallKind::Fax => "fax",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "call" => Some(CallKind::Call),
            "fax" => Some(CallKind::Fax),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    In,
    Out,
}

impl CallState {
    pub fn as_str(self) -> &'static str {
        match self {
            CallState::Ringing => "ringing",
            CallState::Answered => "answered",
            CallState::Missed => "missed",
            CallState::Ended => "ended",
            CallState::EndUnknown => "end_unknown",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [CallState::Ringing, CallState::Answered, CallState::Missed, CallState::Ended, CallState::EndUnknown]
            .into_iter()
            .find(|st| st.as_str() == s)
    }
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "in" | "incoming" | "inbound" => Some(Direction::In),
            "out" | "outgoing" | "outbound" => Some(Direction::Out),
            _ => None,
        }
    }
}

/// Where the call stands, for the UI's status column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum CallState {
    /// No hang-up yet.
    Ringing,
    Answered,
    Missed,
    /// Ended, but Bulutfon did not say whether anyone answered.
    Ended,
    /// No hang-up arrived and nothing was heard of the call for [`SILENCE_LIMIT_US`]: it is
    /// over, but how it ended is unknown (its hang-up webhook was lost). Never stored: a call
    /// is this only when read at a time past its `ringing_until_us` (see [`Call::settle`]).
    EndUnknown,
}

/// How long a call may go without any event before it stops counting as ringing: two hours.
/// Bulutfon sends nothing between routing a call to an extension and its hang-up, so a call
/// in conversation is as silent as one whose hang-up was lost; the limit must outlast nearly
/// every real conversation, because ending a call that is still going is the worse mistake (a
/// lost hang-up only leaves a call ringing on screen for longer). A later hang-up completes a
/// call either way.
pub const SILENCE_LIMIT_US: i64 = 2 * 3600 * 1_000_000;

/// When a call with no end event stops counting as ringing: its last event plus
/// [`SILENCE_LIMIT_US`]. None for ended calls and for faxes, which have no end event at all.
pub fn ringing_until(kind: CallKind, ended_at_us: Option<i64>, last_heard_us: Option<i64>) -> Option<i64> {
    match (kind, ended_at_us) {
        (CallKind::Call, None) => last_heard_us.map(|t| t.saturating_add(SILENCE_LIMIT_US)),
        _ => None,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RouteStep {
    #[serde(rename = "type")]
    pub kind: RouteType,
    pub destination: String,
    /// RFC 3339, when the routing event carried a time.
    pub at: Option<String>,
    /// The menu's, group's or extension's name (a local one, else Bulutfon's): filled when the
    /// call is read (`names::annotate`), never stored with it.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub name: Option<String>,
}

/// One leg of the CDR's `callflow`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct CallflowLeg {
    pub callee: Option<String>,
    pub start_time: Option<String>,
    pub answer_time: Option<String>,
    pub hangup_time: Option<String>,
    pub redirection: Option<String>,
    pub redirection_target: Option<String>,
}

/// A call or fax as Kanca shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Call {
    pub uuid: String,
    pub kind: CallKind,
    pub direction: Direction,
    /// Caller in the Turkish display form ("0 532 444 55 66"), or as received when unparseable.
    pub caller: Option<String>,
    pub caller_raw: Option<String>,
    pub caller_e164: Option<String>,
    pub callee: Option<String>,
    pub callee_raw: Option<String>,
    pub callee_e164: Option<String>,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub answered: Option<bool>,
    pub missed: bool,
    pub state: CallState,
    /// While no hang-up has arrived: when the call stops ringing unless another event comes
    /// (its last event plus the silence limit, `SILENCE_LIMIT_US`, two hours). A view that
    /// keeps a call on screen compares it with its clock.
    #[ts(type = "number | null")]
    pub ringing_until_us: Option<i64>,
    #[ts(type = "number | null")]
    pub duration_s: Option<i64>,
    pub hangup_cause: Option<String>,
    pub route: Vec<RouteStep>,
    #[ts(type = "number")]
    pub event_count: usize,
    /// Where the call's events came from: ["webhook"], ["api"] (a backfill) or both.
    #[serde(default)]
    #[ts(as = "Option<Vec<String>>", optional)]
    pub sources: Vec<String>,
    /// Sent by Kanca's own "send a test event" (the body carries `"kanca_test": true`): shown
    /// marked, never counted as a real call.
    pub test: bool,
    #[ts(type = "number")]
    pub started_at_us: i64,
    #[ts(type = "number | null")]
    pub ended_at_us: Option<i64>,
    /// The caller's and callee's names from the phone book (null when unknown), and the user's
    /// note and tags on the call: filled when the call is read (`contacts::annotate`), never
    /// stored with it, so a contact edited later shows at once.
    #[serde(default)]
    pub caller_name: Option<String>,
    #[serde(default)]
    pub callee_name: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// The CDR's detail: only in a call read whole (`kanca show`, the detail view), not in
    /// history listings, which stay small.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hangup_detail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cdr_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cdr_api_url: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub callflow: Vec<CallflowLeg>,
}

impl Call {
    /// The call as it stands at `now_us`: one still ringing past its `ringing_until_us` is
    /// [`CallState::EndUnknown`]. Applied whenever a call is read rather than stored, so no
    /// background job has to run, the answer is always current, and a late hang-up (which
    /// assembles to a real end) completes the call as usual.
    pub fn settle(&mut self, now_us: i64) {
        if self.state == CallState::Ringing && self.ringing_until_us.is_some_and(|until| now_us >= until) {
            self.state = CallState::EndUnknown;
        }
        // Kanca 0.1 stored faxes as ringing; they are whole when they arrive.
        if self.kind == CallKind::Fax && self.state == CallState::Ringing {
            self.state = CallState::Ended;
        }
    }

    /// [`Call::settle`] by value.
    pub fn at(mut self, now_us: i64) -> Call {
        self.settle(now_us);
        self
    }
}

/// A party's number as shown and matched: (display, e164).
pub fn party(raw: Option<&str>) -> (Option<String>, Option<String>) {
    match raw.map(phone::normalize) {
        Some(p) => (Some(p.display), p.e164),
        None => (None, None),
    }
}

/// The field that marks Kanca's own test events.
pub const TEST_MARKER: &str = "kanca_test";

/// What assembly needs of a stored event.
#[derive(Debug, Clone)]
pub struct EventRecord {
    pub event: CallEvent,
    pub received_at_us: i64,
}

impl EventRecord {
    /// When the event happened: Bulutfon's timestamp, or when Kanca received it if it had none.
    /// The same clock as the start and end Kanca shows, so a call "started 3 hours ago" with
    /// nothing since is also the call that stopped ringing.
    pub fn time_us(&self) -> i64 {
        self.event.timestamp_us.unwrap_or(self.received_at_us)
    }
    fn field(&self, key: &str) -> Option<String> {
        self.event.fields.get(key).and_then(scalar_text)
    }
    /// The call detail record: a hang-up's `cdr`, or a record read from the API, which is one.
    fn cdr(&self) -> Option<&Map<String, Value>> {
        if self.event.event_type.is_api() {
            return Some(&self.event.fields);
        }
        self.event.fields.get("cdr").and_then(Value::as_object)
    }
    /// The API lists only calls that are over, so its records end a call like a hang-up.
    fn is_end(&self) -> bool {
        matches!(self.event.event_type, EventType::Hangup | EventType::Missed | EventType::ApiCdr | EventType::ApiCdrDetail)
    }
    /// A total order on events independent of arrival, used before every fold. The whole
    /// payload breaks remaining ties, serialized only when needed (it rarely is).
    fn order(&self, other: &Self) -> std::cmp::Ordering {
        self.order_key().cmp(&other.order_key()).then_with(|| {
            let a = Value::Object(self.event.fields.clone()).to_string();
            let b = Value::Object(other.event.fields.clone()).to_string();
            a.cmp(&b)
        })
    }

    fn order_key(&self) -> (i64, u8, &str, &str) {
        let rank = match self.event.event_type {
            EventType::CallInit | EventType::FaxInit => 0,
            EventType::RoutedToMenu => 1,
            EventType::RoutedToGroup => 2,
            EventType::RoutedToExtension => 3,
            EventType::Other(_) => 4,
            EventType::Hangup => 5,
            EventType::Missed => 6,
            EventType::ApiCdr => 7,
            EventType::ApiCdrDetail => 8,
        };
        (self.time_us(), rank, self.event.destination.as_deref().unwrap_or(""), &self.event.received_type)
    }
}

fn bool_of(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_i64().map(|i| i != 0),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Some(true),
            "false" | "0" | "no" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// Assemble one call from all the events stored for its uuid. `events` must be non-empty and
/// share one uuid; order and duplicates do not matter.
pub fn assemble(events: &[EventRecord]) -> Option<Call> {
    assemble_of(events)
}

/// [`assemble`] from borrowed records, so a caller holding them elsewhere need not copy them.
pub fn assemble_of<'a>(events: impl IntoIterator<Item = &'a EventRecord>) -> Option<Call> {
    let evs = Events::new(events)?;
    let kind = evs.kind();
    let direction = evs.direction();
    let caller_raw = evs.number(|e| e.caller.as_ref(), "bf_caller");
    let callee_raw = evs.number(|e| e.callee.as_ref(), "bf_callee");
    let (caller, caller_e164) = party(caller_raw.as_deref());
    let (callee, callee_e164) = party(callee_raw.as_deref());
    let times = evs.times();
    let outcome = evs.outcome(kind, direction, &times);
    Some(Call {
        uuid: evs.first().event.uuid.clone(),
        kind,
        direction,
        caller,
        caller_e164,
        caller_raw,
        callee,
        callee_e164,
        callee_raw,
        started_at: micros_to_rfc3339(times.started_at_us).unwrap_or_default(),
        ended_at: times.ended_at_us.and_then(micros_to_rfc3339),
        started_at_us: times.started_at_us,
        ended_at_us: times.ended_at_us,
        answered: outcome.answered,
        missed: outcome.missed,
        state: outcome.state,
        ringing_until_us: ringing_until(kind, times.ended_at_us, times.last_heard_us),
        caller_name: None,
        callee_name: None,
        note: None,
        tags: Vec::new(),
        duration_s: outcome.duration_s,
        hangup_cause: evs.end_field("hangup_cause").or_else(|| evs.cdr_text("hangup_cause")),
        hangup_detail: evs
            .end_field("hangup_detail")
            .or_else(|| evs.cdr_text("sip_hangup_disposition"))
            .or_else(|| evs.cdr_text("hangup_state")),
        route: evs.route(),
        recorded: evs.cdr.and_then(|c| c.get("call_record")).and_then(recorded),
        cdr_url: evs.end_field("cdr_url").or_else(|| evs.any_field("cdr_url")),
        cdr_api_url: evs.any_field("cdr_api_url"),
        callflow: evs.callflow(),
        event_count: evs.all.len(),
        sources: evs.sources(),
        test: evs.all.iter().any(|e| e.event.fields.get(TEST_MARKER).and_then(bool_of) == Some(true)),
    })
}

/// A call's events in their total order, without duplicates, with what several steps of
/// assembly look up: the CDR (from whichever event carried it) and the end events.
struct Events<'a> {
    all: Vec<&'a EventRecord>,
    ends: Vec<&'a EventRecord>,
    cdr: Option<&'a Map<String, Value>>,
}

/// When the call started, ended and was last heard of, and what the end events and the CDR
/// say about its length.
struct Times {
    started_at_us: i64,
    ended_at_us: Option<i64>,
    last_heard_us: Option<i64>,
    talk_duration: Option<i64>,
    cdr_answer: Option<i64>,
    cdr_hangup: Option<i64>,
}

/// How the call went.
struct Outcome {
    answered: Option<bool>,
    missed: bool,
    state: CallState,
    duration_s: Option<i64>,
}

impl<'a> Events<'a> {
    fn new(events: impl IntoIterator<Item = &'a EventRecord>) -> Option<Events<'a>> {
        let mut all: Vec<&EventRecord> = events.into_iter().collect();
        all.sort_by(|a, b| a.order(b));
        all.dedup_by(|a, b| a.order(b).is_eq());
        all.first()?;
        let ends = all.iter().copied().filter(|e| e.is_end()).collect();
        // The record with the call's flow when there is one (the API's detail, a hang-up's CDR),
        // else the first.
        let cdr = all.iter().filter_map(|e| e.cdr()).find(|c| legs_of(c).is_some()).or_else(|| all.iter().find_map(|e| e.cdr()));
        Some(Events { all, ends, cdr })
    }

    fn first(&self) -> &'a EventRecord {
        self.all[0]
    }

    fn cdr_text(&self, key: &str) -> Option<String> {
        self.cdr.and_then(|c| c.get(key)).and_then(scalar_text)
    }

    fn cdr_time(&self, key: &str) -> Option<i64> {
        cdr_time_us(self.cdr.and_then(|c| c.get(key)))
    }

    /// A field as the end events give it.
    fn end_field(&self, key: &str) -> Option<String> {
        self.ends.iter().find_map(|e| e.field(key))
    }

    /// A field as the first event that has it gives it.
    fn any_field(&self, key: &str) -> Option<String> {
        self.all.iter().find_map(|e| e.field(key))
    }

    fn kind(&self) -> CallKind {
        let fax = self.all.iter().any(|e| e.event.event_type == EventType::FaxInit)
            || self.cdr_text("bf_calltype").is_some_and(|t| t.eq_ignore_ascii_case("fax"));
        if fax {
            CallKind::Fax
        } else {
            CallKind::Call
        }
    }

    fn direction(&self) -> Direction {
        self.all
            .iter()
            .find_map(|e| e.event.direction.as_deref().and_then(Direction::parse))
            .or_else(|| self.cdr_text("bf_direction").as_deref().and_then(Direction::parse))
            .or_else(|| self.cdr_text("direction").as_deref().and_then(Direction::parse))
            .unwrap_or(Direction::In)
    }

    /// A party's number as received. Prefer what the call start said; CDR numbers are a last
    /// resort (the documented CDR even disagrees with the top-level caller).
    fn number(&self, pick: fn(&CallEvent) -> Option<&String>, cdr_key: &str) -> Option<String> {
        let starts = self.all.iter().filter(|e| matches!(e.event.event_type, EventType::CallInit | EventType::FaxInit));
        starts
            .chain(self.all.iter())
            .find_map(|e| pick(&e.event).cloned())
            .or_else(|| self.cdr_text(cdr_key))
    }

    fn times(&self) -> Times {
        let talk_duration = self.end_field("talk_duration").and_then(|t| t.parse::<f64>().ok()).map(|t| t.round() as i64);
        let cdr_hangup = self.cdr_time("hangup_time");
        // Event timestamps have microseconds; CDR times only seconds, so they come second.
        let event_start = self.all.iter().filter(|e| !e.is_end()).map(|e| e.time_us()).min();
        let started_at_us = event_start.or(self.cdr_time("call_time")).unwrap_or_else(|| {
            // Only end events: the call started talk_duration before its end.
            self.first().time_us() - talk_duration.unwrap_or(0).max(0) * 1_000_000
        });
        let ended_at_us = if self.ends.is_empty() {
            None
        } else {
            cdr_hangup.or_else(|| self.ends.iter().map(|e| e.time_us()).max())
        };
        Times {
            started_at_us,
            ended_at_us,
            // The last time Bulutfon told us anything about this call.
            last_heard_us: self.all.iter().map(|e| e.time_us()).max(),
            talk_duration,
            cdr_answer: self.cdr_time("answer_time"),
            cdr_hangup,
        }
    }

    /// Whether anyone answered: the end event's disposition, else the CDR's legs, else
    /// whether there was talk time.
    fn answered(&self, times: &Times) -> Option<bool> {
        if self.all.iter().any(|e| e.event.event_type == EventType::Missed) {
            return Some(false);
        }
        let disposition = self.end_field("result_disposition").or_else(|| {
            // An empty result_disposition is meaningful ("not connected"); scalar_text drops it.
            self.ends.iter().find_map(|e| match e.event.fields.get("result_disposition") {
                Some(Value::String(s)) if s.trim().is_empty() => Some(String::new()),
                _ => None,
            })
        });
        if let Some(d) = disposition {
            return Some(d.eq_ignore_ascii_case("SUCCESS"));
        }
        let Some(cdr) = self.cdr else {
            return times.talk_duration.map(|t| t > 0);
        };
        // The API's records say it outright (newer ones).
        if cdr.get("missing_call").and_then(bool_of) == Some(true) {
            return Some(false);
        }
        // Greeting menus answer every call; only a leg that is not a menu counts as a person.
        let legs = legs_of(cdr);
        let person = legs.map(|legs| {
            legs.iter().any(|leg| {
                let menu = leg.get("redirection").and_then(scalar_text).is_some_and(|r| r.to_ascii_uppercase().contains("MENU"));
                let answered = leg.get("answer_time").and_then(scalar_text).is_some();
                answered && !menu
            })
        });
        let api = self.all.iter().any(|e| e.event.event_type.is_api());
        // An API record without an answer time was not answered (an outgoing call nobody
        // picked up); a webhook's CDR leaves it open, as it always has.
        person.or(times.cdr_answer.map(|_| true)).or_else(|| api.then_some(false))
    }

    fn outcome(&self, kind: CallKind, direction: Direction, times: &Times) -> Outcome {
        let answered = self.answered(times);
        let missed_event = self.all.iter().any(|e| e.event.event_type == EventType::Missed);
        // A fax has no end event: the fax_init that announces it is the whole fax, received.
        let ended = times.ended_at_us.is_some() || kind == CallKind::Fax;
        let missed = missed_event || (kind == CallKind::Call && direction == Direction::In && ended && answered == Some(false));
        let state = match (ended, answered, missed) {
            (false, _, false) => CallState::Ringing,
            (_, _, true) => CallState::Missed,
            (true, Some(true), _) => CallState::Answered,
            (true, _, _) => CallState::Ended,
        };
        let duration_s = times.talk_duration.or_else(|| match (times.cdr_answer, times.cdr_hangup) {
            (Some(a), Some(h)) if h >= a && answered != Some(false) => Some((h - a) / 1_000_000),
            _ => None,
        });
        Outcome { answered, missed, state, duration_s }
    }

    /// Where the call was routed, in order; the same routing reported twice with different
    /// received spellings is one step.
    fn route(&self) -> Vec<RouteStep> {
        let mut route: Vec<RouteStep> = Vec::new();
        for e in &self.all {
            let (Some(kind), Some(dest)) = (e.event.event_type.route_type(), e.event.destination.clone()) else {
                continue;
            };
            let at = e.event.timestamp_us.and_then(micros_to_rfc3339);
            let step = RouteStep { kind, destination: dest, at, name: None };
            if route.last() != Some(&step) {
                route.push(step);
            }
        }
        // A call only the API told of has no routing events: its CDR's legs say where it went.
        // (A webhook call without them keeps an empty route, as Bulutfon reported it.)
        if route.is_empty() && self.all.iter().any(|e| e.event.event_type.is_api()) {
            route = self.route_from_callflow();
        }
        route
    }

    /// Where the CDR's legs say the call went, for a call read from the API (no routing webhook
    /// described it): each leg's redirection, and the extension that answered a group.
    fn route_from_callflow(&self) -> Vec<RouteStep> {
        let mut route = Vec::new();
        let Some(legs) = self.cdr.and_then(legs_of) else { return route };
        for leg in legs {
            let text = |v: &Value, k: &str| v.get(k).and_then(scalar_text);
            let redirection = text(leg, "redirection").unwrap_or_default().to_ascii_uppercase();
            let kind = if redirection.ends_with("_MENU") {
                RouteType::Menu
            } else if redirection.ends_with("_GROUP") {
                RouteType::Group
            } else if redirection.ends_with("_EXTENSION") {
                RouteType::Extension
            } else {
                continue;
            };
            // REDIRECTED_TO_X names X as the target; CONNECTING_TO_X is the leg of X itself.
            let destination = if redirection.starts_with("CONNECTING") { text(leg, "callee") } else { text(leg, "redirection_target") };
            if let Some(destination) = destination {
                push_step(&mut route, RouteStep { kind, destination, at: text(leg, "start_time"), name: None });
            }
            let answered = leg.get("origination").and_then(Value::as_array).and_then(|o| {
                o.iter().find(|x| text(x, "result").is_some_and(|r| r.eq_ignore_ascii_case("ANSWERED")))
            });
            if let Some(destination) = answered.and_then(|x| text(x, "destination")) {
                let at = answered.and_then(|x| text(x, "answer_time"));
                push_step(&mut route, RouteStep { kind: RouteType::Extension, destination, at, name: None });
            }
        }
        route
    }

    /// Where the call's events came from: "webhook", "api", or both, in that order.
    fn sources(&self) -> Vec<String> {
        let api = self.all.iter().any(|e| e.event.event_type.is_api());
        let webhook = self.all.iter().any(|e| !e.event.event_type.is_api());
        [(webhook, SOURCE_WEBHOOK), (api, SOURCE_API)].into_iter().filter(|(has, _)| *has).map(|(_, s)| s.to_owned()).collect()
    }

    /// The CDR's legs, numbers in display form.
    fn callflow(&self) -> Vec<CallflowLeg> {
        let Some(legs) = self.cdr.and_then(legs_of) else {
            return Vec::new();
        };
        legs.iter()
            .map(|leg| {
                let t = |k: &str| leg.get(k).and_then(scalar_text);
                CallflowLeg {
                    callee: t("callee").map(|c| phone::normalize(&c).display),
                    start_time: t("start_time"),
                    answer_time: t("answer_time"),
                    hangup_time: t("hangup_time"),
                    redirection: t("redirection"),
                    redirection_target: t("redirection_target"),
                }
            })
            .collect()
    }
}

/// A call's events came from the webhook listener.
pub const SOURCE_WEBHOOK: &str = "webhook";
/// A call's events came from Bulutfon's API (a backfill).
pub const SOURCE_API: &str = "api";

/// A CDR's legs: `callflow` in a hang-up's CDR, `call_flow` in the API's detail.
fn legs_of(cdr: &Map<String, Value>) -> Option<&Vec<Value>> {
    cdr.get("callflow").or_else(|| cdr.get("call_flow")).and_then(Value::as_array)
}

/// Add a CDR leg's routing step unless it repeats the last one (a group named by its
/// redirection and again by its own leg).
fn push_step(route: &mut Vec<RouteStep>, step: RouteStep) {
    let same = route.last().is_some_and(|last| last.kind == step.kind && last.destination == step.destination);
    if !same {
        route.push(step);
    }
}

/// Whether the call was recorded: a webhook CDR's boolean, the API's YES / NO / REMOVED (and
/// once the Turkish "Yok").
fn recorded(v: &Value) -> Option<bool> {
    match v {
        Value::String(s) => match s.trim().to_lowercase().as_str() {
            "yes" | "var" | "evet" | "true" | "1" => Some(true),
            "no" | "yok" | "hayır" | "removed" | "false" | "0" => Some(false),
            _ => None,
        },
        other => bool_of(other),
    }
}

/// The text the search index holds for a call: the search form of every number involved and
/// the route destinations, so a query in any spelling of a number finds it.
pub fn search_text(call: &Call) -> String {
    let mut parts: Vec<String> = Vec::new();
    let parties = [(&call.caller_raw, &call.caller_e164), (&call.callee_raw, &call.callee_e164)];
    for (raw, e164) in parties {
        match (raw, e164) {
            // Already parsed during assembly: E.164 digits are the search form.
            (_, Some(e164)) => parts.push(e164.trim_start_matches('+').to_string()),
            (Some(raw), None) => parts.push(phone::normalize(raw).search),
            (None, None) => {}
        }
    }
    for step in &call.route {
        parts.push(step.destination.clone());
    }
    parts.retain(|p| !p.is_empty());
    parts.dedup();
    // Lower-case: the index is case-sensitive (for GLOB) and queries are lower-cased.
    parts.join(" ").to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook;
    use proptest::prelude::*;

    fn rec(body: &str, received_at_us: i64) -> EventRecord {
        EventRecord { event: webhook::parse(Some("application/json"), body.as_bytes()).unwrap(), received_at_us }
    }

    fn fixture(path: &str) -> String {
        let base = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/");
        std::fs::read_to_string(format!("{base}{path}")).unwrap()
    }

    fn seed_call() -> Vec<EventRecord> {
        ["call_init", "call_init_menu", "call_init_group", "call_init_extension", "call_hangup"]
            .iter()
            .enumerate()
            .map(|(i, n)| rec(&fixture(&format!("seed/{n}.json")), 1_700_000_000_000_000 + i as i64))
            .collect()
    }

    /// Each record of a fixture's list as an API event.
    fn api_records(path: &str, list: &str) -> Vec<EventRecord> {
        let page: Value = serde_json::from_str(&fixture(path)).unwrap();
        page[list]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| EventRecord { event: webhook::parse_api_cdr(r.to_string().as_bytes()).unwrap(), received_at_us: 1_800_000_000_000_000 })
            .collect()
    }

    fn api_record(path: &str, list: &str, uuid: &str) -> EventRecord {
        api_records(path, list).into_iter().find(|r| r.event.uuid == uuid).unwrap()
    }

    #[test]
    fn a_call_known_from_webhooks_and_from_the_api_is_one_call() {
        let mut events = seed_call();
        let webhook_only = assemble(&events).unwrap();
        events.push(api_record("api/cdrs-page-2.json", "cdrs", "f615986c-2001-11e5-bdee-6599352d46ce"));
        let both = assemble(&events).unwrap();
        assert_eq!(webhook_only.sources, ["webhook"]);
        assert_eq!(both.sources, ["webhook", "api"]);
        // The record adds an event and nothing else changes: the webhooks said it all.
        assert_eq!(both.event_count, webhook_only.event_count + 1);
        assert_eq!((both.started_at_us, both.ended_at_us, both.route.clone()), (webhook_only.started_at_us, webhook_only.ended_at_us, webhook_only.route.clone()));
        assert_eq!(both.state, webhook_only.state);
    }

    #[test]
    fn api_records_alone_make_whole_calls() {
        let page = "api/cdrs-page-1.json";
        let missed = assemble(&[api_record(page, "cdrs", "704b83fa-4d98-40f3-97cb-44882dcbed04")]).unwrap();
        assert_eq!((missed.state, missed.missed, missed.direction), (CallState::Missed, true, Direction::In));
        assert_eq!(missed.sources, ["api"]);
        assert_eq!(missed.caller.as_deref(), Some("0 536 395 22 18"));
        assert_eq!(missed.started_at.as_str(), "2026-11-28T06:40:05+00:00");
        let answered = assemble(&[api_record(page, "cdrs", "468d0eb5-7396-4742-a38c-590471883c0d")]).unwrap();
        assert_eq!((answered.state, answered.duration_s, answered.recorded), (CallState::Answered, Some(254), Some(true)));
        // An outgoing call nobody picked up is not a missed call.
        let out = assemble(&[api_record(page, "cdrs", "b75d34a7-9cc5-4801-8530-406c6aea0e09")]).unwrap();
        assert_eq!((out.direction, out.state, out.missed), (Direction::Out, CallState::Ended, false));
        // Every record of both pages assembles, whatever its types ("Yok", strings, numbers).
        for r in api_records(page, "cdrs").into_iter().chain(api_records("api/cdrs-page-2.json", "cdrs")) {
            let call = assemble(std::slice::from_ref(&r)).unwrap();
            assert!(call.ended_at_us.is_some(), "{} has no end", call.uuid);
        }
    }

    #[test]
    fn the_detail_s_flow_gives_the_route() {
        let detail: Value = serde_json::from_str(&fixture("api/cdr-detail.json")).unwrap();
        let detail = EventRecord { event: webhook::parse_api_cdr(detail["cdr"].to_string().as_bytes()).unwrap(), received_at_us: 0 };
        assert_eq!(detail.event.event_type, EventType::ApiCdrDetail);
        let listed = api_record("api/cdrs-page-2.json", "cdrs", "dd3b3506-e40e-11e4-9880-17aee3ce4e7b");
        assert!(assemble(std::slice::from_ref(&listed)).unwrap().route.is_empty());
        let call = assemble(&[listed, detail]).unwrap();
        let route: Vec<_> = call.route.iter().map(|r| (r.kind, r.destination.as_str())).collect();
        assert_eq!(route, [(RouteType::Menu, "10"), (RouteType::Group, "101"), (RouteType::Extension, "1004")]);
        assert_eq!(call.callflow.len(), 3);
        assert_eq!(call.hangup_detail.as_deref(), Some("recv_bye"));
        assert_eq!(call.state, CallState::Answered);
    }

    #[test]
    fn seed_call_assembles() {
        let call = assemble(&seed_call()).unwrap();
        assert_eq!(call.kind, CallKind::Call);
        assert_eq!(call.direction, Direction::In);
        assert_eq!(call.caller_raw.as_deref(), Some("90532000000"));
        assert_eq!(call.callee.as_deref(), Some("0 850 885 00 00"));
        assert_eq!(call.started_at_us, 1435762851086820);
        assert_eq!(call.ended_at.as_deref(), Some("2015-07-01T15:00:55+00:00"));
        let route: Vec<_> = call.route.iter().map(|r| (r.kind, r.destination.as_str())).collect();
        assert_eq!(
            route,
            [(RouteType::Menu, "10"), (RouteType::Group, "111"), (RouteType::Extension, "1000")]
        );
        assert_eq!(call.hangup_cause.as_deref(), Some("NORMAL_CLEARING"));
        assert_eq!(call.hangup_detail.as_deref(), Some("recv_bye"));
        assert_eq!(call.recorded, Some(false));
        assert_eq!(call.callflow.len(), 2);
        // Only the greeting menu answered: nobody picked up.
        assert_eq!(call.answered, Some(false));
        assert!(call.missed);
        assert_eq!(call.state, CallState::Missed);
    }

    #[test]
    fn hangup_2021_uses_talk_duration_and_disposition() {
        let evs = vec![
            rec(&fixture("documented-2021/call_init.json"), 1),
            rec(&fixture("documented-2021/call_hangup.json"), 2),
        ];
        let call = assemble(&evs).unwrap();
        assert_eq!(call.duration_s, Some(35));
        assert_eq!(call.answered, Some(true));
        assert!(!call.missed);
        assert_eq!(call.state, CallState::Answered);
        assert_eq!(call.hangup_detail.as_deref(), Some("send_bye"));
        assert!(call.cdr_url.unwrap().starts_with("https://oim.bulutfon.com/"));
        assert!(call.cdr_api_url.is_some());
    }

    #[test]
    fn ringing_fax_and_missed() {
        let call = assemble(&[rec(&fixture("seed/call_init.json"), 1)]).unwrap();
        assert_eq!(call.state, CallState::Ringing);
        assert_eq!(call.ended_at, None);
        assert_eq!(call.answered, None);
        let fax = assemble(&[rec(&fixture("seed/fax_init.json"), 1)]).unwrap();
        assert_eq!(fax.kind, CallKind::Fax);
        assert_eq!(fax.caller.as_deref(), Some("0 532 620 00 00"));
        // The fax_init is the whole fax: it arrived, it does not ring.
        assert_eq!(fax.state, CallState::Ended);
        assert!(!fax.missed);
        let missed = assemble(&[rec(&fixture("documented-2021/missing_call.json"), 1)]).unwrap();
        assert!(missed.missed);
        assert_eq!(missed.answered, Some(false));
    }

    #[test]
    fn hangup_alone_starts_before_its_end() {
        let call = assemble(&[rec(&fixture("documented-2021/call_hangup.json"), 1)]).unwrap();
        assert_eq!(call.started_at_us, 1614261582000000 - 35_000_000);
        assert_eq!(call.ended_at_us, Some(1614261582000000));
    }

    #[test]
    fn silent_call_ends_unknown_and_a_late_hangup_completes_it() {
        const T: i64 = 1_700_000_000_000_000;
        let init = rec(&format!(r#"{{"event_type":"call_init","uuid":"s","caller":905324445566,"direction":"IN","timestamp":{T}}}"#), T);
        let call = assemble(std::slice::from_ref(&init)).unwrap();
        assert_eq!(call.state, CallState::Ringing);
        assert_eq!(call.ringing_until_us, Some(T + SILENCE_LIMIT_US));
        assert_eq!(call.clone().at(T + SILENCE_LIMIT_US - 1).state, CallState::Ringing);
        let lost = call.clone().at(T + SILENCE_LIMIT_US);
        assert_eq!(lost.state, CallState::EndUnknown);
        assert_eq!((lost.ended_at, lost.answered, lost.missed), (None, None, false), "nothing is made up");

        // Any later event is news of the call: the limit counts from it.
        let routed = rec(
            &format!(r#"{{"event_type":"call_init_extension","uuid":"s","destination":"1000","timestamp":{}}}"#, T + 3_600_000_000),
            T,
        );
        let call = assemble(&[init.clone(), routed.clone()]).unwrap();
        assert_eq!(call.at(T + SILENCE_LIMIT_US).state, CallState::Ringing);

        // The hang-up arrives late (or the call really was that long): the call completes.
        let hangup = rec(
            &format!(
                r#"{{"event_type":"call_hangup","uuid":"s","timestamp":{},"talk_duration":9000,"result_disposition":"SUCCESS"}}"#,
                T + 3 * 3_600_000_000
            ),
            T,
        );
        let call = assemble(&[init, routed, hangup]).unwrap();
        assert_eq!(call.ringing_until_us, None);
        assert_eq!(call.at(T + 100 * SILENCE_LIMIT_US).state, CallState::Answered);
    }

    #[test]
    fn silence_counts_from_receipt_only_without_timestamps() {
        let init = rec(r#"{"event_type":"call_init","uuid":"n","caller":905324445566}"#, 42);
        assert_eq!(assemble(&[init]).unwrap().ringing_until_us, Some(42 + SILENCE_LIMIT_US));
        // A fax has no end event at all: it never becomes "end unknown".
        let fax = assemble(&[rec(&fixture("seed/fax_init.json"), 1)]).unwrap();
        assert_eq!(fax.ringing_until_us, None);
        assert_eq!(fax.clone().at(i64::MAX).state, fax.state);
    }

    #[test]
    fn search_text_has_every_number() {
        let mut evs = seed_call();
        evs[0] = rec(
            r#"{"event_type":"call_init","uuid":"f615986c-2001-11e5-bdee-6599352d46ce","caller":"+90 532 444 55 66","callee":908508850000,"direction":"IN","timestamp":1435762851086820}"#,
            1,
        );
        let call = assemble(&evs).unwrap();
        let text = search_text(&call);
        for needle in ["905324445566", "908508850000", "10", "111", "1000"] {
            assert!(text.contains(needle), "{text} lacks {needle}");
        }
    }

    proptest! {
        /// Any order and any duplication of a call's events gives the same call.
        #[test]
        fn order_and_duplicates_do_not_matter(
            picks in proptest::collection::vec(0usize..5, 1..12),
            seed in any::<u64>(),
        ) {
            let all = seed_call();
            let chosen: Vec<EventRecord> = picks.iter().map(|&i| all[i].clone()).collect();
            // A permutation of the chosen events plus a duplicate of one of them.
            let mut shuffled = chosen.clone();
            let n = shuffled.len();
            let mut s = seed;
            for i in (1..n).rev() {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                shuffled.swap(i, (s >> 33) as usize % (i + 1));
            }
            shuffled.push(chosen[(seed as usize) % n].clone());
            let a = assemble(&chosen).unwrap();
            let b = assemble(&shuffled).unwrap();
            // event_count counts distinct events, so duplicates leave it unchanged too.
            prop_assert_eq!(a, b);
        }
    }
}
