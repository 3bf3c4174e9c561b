//! The `kanca` program: subcommands over the engine (`serve`, `history`, `show`,
//! `credentials`). With no subcommand it starts the desktop app.

mod cli;
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
        #[command(flatten)]
        data: DataDir,
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
    },
    /// Print the webhook's basic-auth user and password (to paste into Bulutfon's panel)
    Credentials {
        /// Replace the stored password with a new random one
        #[arg(long)]
        regenerate: bool,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        data: DataDir,
    },
}

fn main() -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_env("KANCA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();

    let args = Args::parse();
    let result = match args.command {
        Some(Command::Serve { listen, public_url, data }) => cli::serve(listen, data.data_dir, public_url),
        Some(Command::SelfTest { url, json, data }) => cli::self_test(url, data.data_dir, json),
        Some(Command::History(h)) => cli::history(h),
        Some(Command::Show { uuid, json, data }) => cli::show(&uuid, json, data.data_dir),
        Some(Command::Credentials { regenerate, json, data }) => cli::credentials(regenerate, json, data.data_dir),
        #[cfg(feature = "desktop")]
        None => desktop::run(args.listen, args.data_dir, args.hidden).map(|_| ExitCode::SUCCESS),
        #[cfg(not(feature = "desktop"))]
        None => {
            let _ = (args.listen, args.data_dir);
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
