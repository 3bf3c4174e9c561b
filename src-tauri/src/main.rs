//! The `kanca` program: subcommands over the engine (`serve`, `history`, `show`, `contacts`,
//! `export`, `bulutfon`, `sync`, `call`, `names`, `credentials`). With no subcommand it starts the desktop app.

// On Windows the desktop build is a GUI program, so starting it from the Start menu opens no
// console window; its subcommands attach to the console they were typed in (see main).
#![cfg_attr(all(windows, feature = "desktop"), windows_subsystem = "windows")]

mod bulutfon_cli;
mod cli;
mod contacts_cli;
mod office_cli;
#[cfg(feature = "desktop")]
mod desktop;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "kanca", version, about = "Caller-ID pop-ups and call history for Bulutfon")]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// Address the desktop app's webhook listener uses [env: KANCA_LISTEN] [default: 127.0.0.1:8497]
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
    /// Where the database and config.toml live [default: the OS's per-user data directory]
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Start in the tray without showing the window (how start at login launches Kanca)
    #[arg(long)]
    hidden: bool,
}

#[derive(clap::Args, Clone)]
struct DataDir {
    /// Where the database and config.toml live [default: the OS's per-user data directory]
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

/// The history on PostgreSQL instead of the data directory's SQLite file.
#[derive(clap::Args, Clone)]
struct Database {
    /// Keep the history in PostgreSQL (postgres://user@host/db, or host=/run/postgresql dbname=kanca)
    /// so several receivers share it [env: KANCA_DATABASE_URL]
    #[arg(long, value_name = "URL", env = "KANCA_DATABASE_URL", hide_env = true, hide_env_values = true)]
    database: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the webhook receiver without a window (prints the webhook URL)
    Serve {
        /// Address to listen on [env: KANCA_LISTEN] [default: 127.0.0.1:8497]
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
        /// A public base URL you already route to the listener (reverse proxy, Tailscale
        /// Funnel…), instead of the tunnel in config.toml
        #[arg(long, value_name = "URL")]
        public_url: Option<String>,
        /// Also serve the office's desks (paired with `kanca clients add`) on ADDR
        /// [env: KANCA_OFFICE_LISTEN] [default: 0.0.0.0:8498]
        #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = "")]
        office: Option<String>,
        #[command(flatten)]
        data: DataDir,
        #[command(flatten)]
        db: Database,
    },
    /// Post a test event to the public webhook URL and check it arrives (Kanca must be running)
    SelfTest {
        /// The public base or webhook URL [default: the own URL in config.toml, else the local one]
        #[arg(long, value_name = "URL")]
        url: Option<String>,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        data: DataDir,
        #[command(flatten)]
        db: Database,
    },
    /// List calls and faxes, newest first
    History(cli::HistoryArgs),
    /// Show one call with every event received for it
    Show {
        uuid: String,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        data: DataDir,
        #[command(flatten)]
        db: Database,
    },
    /// The phone book: import vCard or CSV files, list, export
    #[command(subcommand)]
    Contacts(ContactsCommand),
    /// Write the calls the history filters select as CSV for a spreadsheet (UTF-8 with BOM)
    Export {
        #[command(flatten)]
        filters: cli::HistoryFilters,
        /// Cell separator: ',' or ';' (Excel on a Turkish Windows expects ';') or tab
        #[arg(long, default_value = ",")]
        delimiter: String,
        #[command(flatten)]
        data: DataDir,
        #[command(flatten)]
        db: Database,
    },
    /// Office mode: pair desks with this receiver, list and revoke them
    #[command(subcommand)]
    Clients(ClientsCommand),
    /// Bulutfon's API: connect Kanca to the account
    #[command(subcommand)]
    Bulutfon(BulutfonCommand),
    /// Read names and the calls Kanca missed from Bulutfon's API once, then exit
    Sync {
        /// Print one JSON object: calls_added, calls_updated, pages, extensions, groups, dids, closed, busy
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        data: DataDir,
        #[command(flatten)]
        db: Database,
    },
    /// Call a number back through Bulutfon: your extension rings first, then the number
    Call {
        number: String,
        /// Do not ask before calling
        #[arg(long)]
        yes: bool,
        /// The extension that rings first [default: the one in the app's settings]
        #[arg(long, value_name = "EXT")]
        extension: Option<String>,
        /// Which of the account's numbers the other side sees [default: the settings', else the first]
        #[arg(long, value_name = "NUMBER")]
        caller: Option<String>,
        #[command(flatten)]
        data: DataDir,
    },
    /// Names of menus, groups, extensions and your numbers; `names KIND NUMBER NAME` sets your own
    Names {
        /// menu, group, extension or did
        kind: Option<String>,
        number: Option<String>,
        name: Option<String>,
        /// Remove your own name for KIND NUMBER (Bulutfon's shows again)
        #[arg(long)]
        clear: bool,
        /// JSON Lines
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        data: DataDir,
        #[command(flatten)]
        db: Database,
    },
    /// Print the webhook URLs and the basic-auth user and password (to paste into Bulutfon's panel)
    Credentials {
        /// Replace the stored password with a new random one
        #[arg(long)]
        regenerate: bool,
        /// Replace the secret of the one-paste URL: the old URL stops working at once, also in a
        /// running Kanca
        #[arg(long)]
        rotate_secret: bool,
        /// Which form the guide, the tray and `self-test` use
        #[arg(long, value_name = "FORM", value_parser = ["url-secret", "basic-auth"])]
        form: Option<String>,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        data: DataDir,
    },
}

#[derive(Subcommand)]
enum ContactsCommand {
    /// Import contacts from vCard (.vcf) or CSV files; importing the same file again adds nothing
    Import {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Print the report as one JSON object
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        data: DataDir,
        #[command(flatten)]
        db: Database,
    },
    /// List contacts, by name; QUERY matches name or company (Turkish letters forgiven) or a number
    List {
        query: Vec<String>,
        /// Most contacts to list
        #[arg(long, default_value_t = 1000)]
        limit: usize,
        /// JSON Lines, one contact per line
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        data: DataDir,
        #[command(flatten)]
        db: Database,
    },
    /// Write the phone book to standard output as vCard 3.0 or CSV
    Export {
        #[arg(long, value_parser = ["vcard", "csv"], default_value = "vcard")]
        format: String,
        #[command(flatten)]
        data: DataDir,
        #[command(flatten)]
        db: Database,
    },
}

#[derive(Subcommand)]
enum ClientsCommand {
    /// Pair a desk: prints the one-time pairing code to paste into that desk's Kanca
    Add {
        name: String,
        /// The address desks reach this receiver at [default: this computer's address, port 8498].
        /// Given more than once (receivers sharing a PostgreSQL history), desks try them in turn
        #[arg(long, value_name = "HOST:PORT")]
        address: Vec<String>,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        data: DataDir,
        #[command(flatten)]
        db: Database,
    },
    /// The paired desks
    List {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        data: DataDir,
        #[command(flatten)]
        db: Database,
    },
    /// Revoke a desk's pairing: it is refused at once
    Revoke {
        name: String,
        #[command(flatten)]
        data: DataDir,
        #[command(flatten)]
        db: Database,
    },
}

#[derive(Subcommand)]
enum BulutfonCommand {
    /// Store the API token (read from standard input when not given), after checking it; prints the account
    Token {
        token: Option<String>,
        #[command(flatten)]
        data: DataDir,
    },
}

/// Log filter: `KANCA_LOG`, else info (the tunnel libraries only warn: their debug output is
/// noisy and is no place for connection details).
fn log_filter() -> tracing_subscriber::EnvFilter {
    let filter = tracing_subscriber::EnvFilter::try_from_env("KANCA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,ngrok=warn,muxado=warn,rustls=warn"));
    // The HTTP client's own debug lines quote request URLs, and the Bulutfon API's carry the
    // token as a query parameter: never below warnings, whatever KANCA_LOG asks for.
    ["ureq=warn", "ureq_proto=warn"].into_iter().fold(filter, |f, d| f.add_directive(d.parse().expect("a valid directive")))
}

/// Colour in log lines only where it shows as colour: not in a log file, a pipe or a service's
/// journal, and on Windows only in a console that takes escape codes (`conhost`, the console
/// of cmd.exe and PowerShell, prints them as text until virtual-terminal processing is on).
fn log_colours() -> bool {
    use std::io::IsTerminal;
    !anstyle_query::no_color()
        && std::io::stderr().is_terminal()
        && anstyle_query::windows::enable_ansi_colors().unwrap_or(true)
}

fn main() -> ExitCode {
    #[cfg(all(windows, feature = "desktop"))]
    attach_parent_console();
    let args = Args::parse();
    // The desktop app also logs to files in the OS's log directory, a new file a day, the last
    // seven kept; the subcommands log to stderr only (a terminal, or journald under systemd).
    #[cfg(feature = "desktop")]
    let (_log_guard, log_dir) = if args.command.is_none() { desktop_logging() } else { (None, std::path::PathBuf::new()) };
    #[cfg(feature = "desktop")]
    if args.command.is_some() {
        tracing_subscriber::fmt().with_env_filter(log_filter()).with_writer(std::io::stderr).with_ansi(log_colours()).init();
    }
    #[cfg(not(feature = "desktop"))]
    tracing_subscriber::fmt().with_env_filter(log_filter()).with_writer(std::io::stderr).with_ansi(log_colours()).init();

    let result = match args.command {
        Some(Command::Serve { listen, public_url, office, data, db }) => cli::serve(listen, data.data_dir, public_url, office, db.database),
        Some(Command::SelfTest { url, json, data, db }) => cli::self_test(url, data.data_dir, json, db.database),
        Some(Command::History(h)) => cli::history(h),
        Some(Command::Show { uuid, json, data, db }) => cli::show(&uuid, json, data.data_dir, db.database),
        Some(Command::Contacts(ContactsCommand::Import { files, json, data, db })) => contacts_cli::import(files, json, data.data_dir, db.database),
        Some(Command::Contacts(ContactsCommand::List { query, limit, json, data, db })) => contacts_cli::list(query, limit, json, data.data_dir, db.database),
        Some(Command::Contacts(ContactsCommand::Export { format, data, db })) => contacts_cli::export_contacts(&format, data.data_dir, db.database),
        Some(Command::Export { filters, delimiter, data, db }) => contacts_cli::export_calls(filters, &delimiter, data.data_dir, db.database),
        Some(Command::Clients(ClientsCommand::Add { name, address, json, data, db })) => office_cli::add(&name, address, json, data.data_dir, db.database),
        Some(Command::Clients(ClientsCommand::List { json, data, db })) => office_cli::list(json, data.data_dir, db.database),
        Some(Command::Clients(ClientsCommand::Revoke { name, data, db })) => office_cli::revoke(&name, data.data_dir, db.database),
        Some(Command::Bulutfon(BulutfonCommand::Token { token, data })) => bulutfon_cli::token(token, data.data_dir),
        Some(Command::Sync { json, data, db }) => bulutfon_cli::sync(json, data.data_dir, db.database),
        Some(Command::Call { number, yes, extension, caller, data }) => bulutfon_cli::call(number, yes, extension, caller, data.data_dir),
        Some(Command::Names { kind, number, name, clear, json, data, db }) => bulutfon_cli::names(kind, number, name, clear, json, data.data_dir, db.database),
        Some(Command::Credentials { regenerate, rotate_secret, form, json, data }) => {
            let form = form.map(|f| if f == "basic-auth" { kanca_core::WebhookForm::BasicAuth } else { kanca_core::WebhookForm::UrlSecret });
            cli::credentials(cli::CredentialChanges { regenerate, rotate_secret, form }, json, data.data_dir)
        }
        #[cfg(feature = "desktop")]
        None => desktop::run(args.listen, args.data_dir, args.hidden, log_dir).map(|_| ExitCode::SUCCESS),
        #[cfg(not(feature = "desktop"))]
        None => {
            let _ = (args.listen, args.data_dir, args.hidden);
            // The Linux packages install this lean build as `kanca`, so that a CLI query does not
            // pay for loading the desktop libraries, with the app beside it as `kanca-desktop`.
            if let Some(code) = launch_desktop() {
                return code;
            }
            eprintln!("This kanca was built without the desktop app (cargo feature `desktop`).");
            eprintln!("Run `kanca serve` for the receiver, or see `kanca --help`.");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("kanca: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Log lines waiting for the file writer.
#[cfg(feature = "desktop")]
const LOG_QUEUE_LINES: usize = 1024;

#[cfg(feature = "desktop")]
fn desktop_logging() -> (Option<tracing_appender::non_blocking::WorkerGuard>, PathBuf) {
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let dir = kanca_core::config::log_dir().unwrap_or_else(|_| std::env::temp_dir().join("kanca-logs"));
    let file = std::fs::create_dir_all(&dir).ok().and_then(|_| {
        tracing_appender::rolling::Builder::new()
            .rotation(tracing_appender::rolling::Rotation::DAILY)
            .filename_prefix("kanca")
            .filename_suffix("log")
            .max_log_files(7)
            .build(&dir)
            .ok()
    });
    let stderr = tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_ansi(log_colours());
    match file {
        Some(appender) => {
            // A few lines a day: the default queue (128,000 lines, 4 MiB written through at
            // start) would be most of the app's own heap. Lines beyond it are dropped.
            let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
                .buffered_lines_limit(LOG_QUEUE_LINES)
                .finish(appender);
            let to_file = tracing_subscriber::fmt::layer().with_ansi(false).with_writer(writer);
            tracing_subscriber::registry().with(log_filter()).with(stderr).with(to_file).init();
            (Some(guard), dir)
        }
        None => {
            tracing_subscriber::registry().with(log_filter()).with(stderr).init();
            (None, dir)
        }
    }
}

/// Hands over to the desktop app installed beside this program (`kanca-desktop`), with the same
/// arguments; None when there is none.
#[cfg(not(feature = "desktop"))]
fn launch_desktop() -> Option<ExitCode> {
    let exe = std::env::current_exe().ok()?;
    let app = exe.with_file_name(format!("kanca-desktop{}", std::env::consts::EXE_SUFFIX));
    if !app.is_file() {
        return None;
    }
    let mut cmd = std::process::Command::new(&app);
    cmd.args(std::env::args_os().skip(1));
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt as _;
        let e = cmd.exec();
        eprintln!("kanca: cannot start {}: {e}", app.display());
        Some(ExitCode::FAILURE)
    }
    #[cfg(not(unix))]
    match cmd.status() {
        Ok(s) => Some(if s.success() { ExitCode::SUCCESS } else { ExitCode::FAILURE }),
        Err(e) => {
            eprintln!("kanca: cannot start {}: {e}", app.display());
            Some(ExitCode::FAILURE)
        }
    }
}

/// A GUI-subsystem program has no console: write to the one `kanca.exe history` was typed in,
/// if any (the prompt may come back before the output; `--json` into a file is unaffected).
#[cfg(all(windows, feature = "desktop"))]
fn attach_parent_console() {
    use windows_sys::Win32::System::Console::{AttachConsole, ATTACH_PARENT_PROCESS};
    // SAFETY: AttachConsole takes a process id and has no other preconditions; failure (no
    // parent console, e.g. started from the Start menu) leaves the process as it was.
    unsafe {
        AttachConsole(ATTACH_PARENT_PROCESS);
    }
}
