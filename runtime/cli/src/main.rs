//! `mj`: the command line of the mj modeling language.

mod assets;
mod init;
mod project;
mod render;
mod run;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "mj",
    version,
    about = "Compiler and runtime for .mj consumer-data models"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start a new project: mj.toml, a glossary, a source with sample data, a fact,
    /// metrics and a OneID block, ready for `mj check` and `mj run`.
    Init {
        /// The folder to create (default: the current folder); it must be new or empty.
        path: Option<PathBuf>,
        /// The project's name (default: the folder's name).
        #[arg(long)]
        name: Option<String>,
    },
    /// Compile a project (a folder with mj.toml) or .mj files and report problems.
    Check {
        /// A project folder or .mj files (default: the current folder).
        paths: Vec<PathBuf>,
        /// Output format of the diagnostics.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Rewrite .mj files in the canonical layout.
    Fmt {
        /// A project folder or .mj files (default: the current folder).
        paths: Vec<PathBuf>,
        /// Change nothing; exit 1 if a file is not formatted.
        #[arg(long)]
        check: bool,
    },
    /// Build every table of a project for one business date.
    Run {
        /// The project folder (default: the current folder).
        #[arg(default_value = ".")]
        path: PathBuf,
        /// The business date, YYYY-MM-DD.
        #[arg(long)]
        date: String,
        /// Where to write (default: `[run] out` of mj.toml, or `out` in the project).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Where source locations are resolved (default: `[data] root`, or the project).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Take the sources' and OneIDs' partitions of this date from an earlier run and
        /// rebuild only dimensions, facts, checks and summaries.
        #[arg(long)]
        reuse: bool,
        /// Evaluate rules with DataFusion's CASE instead of Cranelift kernels.
        #[arg(long)]
        no_jit: bool,
        /// Show values of `pii` identifiers in clear in the manifest (masked otherwise:
        /// `138****5678`).
        #[arg(long)]
        show_pii: bool,
        /// Run the planned tables on an Apache Ballista cluster (`df://HOST:PORT`, a
        /// `mj scheduler`; default: `[run] cluster` of mj.toml). Its executors must read
        /// the data and output folders at the same paths (a shared file system).
        #[arg(long, value_name = "df://HOST:PORT")]
        cluster: Option<String>,
        /// Read `incremental by` sources whole, not only past the last run's watermark.
        #[arg(long)]
        full: bool,
    },
    /// Run an Apache Ballista scheduler that knows mj's functions, for `mj run --cluster`.
    Scheduler {
        /// The address to listen on.
        #[arg(long, default_value = "127.0.0.1")]
        bind: String,
        #[arg(long, default_value_t = 50050)]
        port: u16,
    },
    /// Run an Apache Ballista executor that compiles mj's rules, registered with a
    /// scheduler.
    Executor {
        /// The scheduler, HOST:PORT.
        #[arg(long, default_value = "127.0.0.1:50050")]
        scheduler: String,
        /// The address to listen on (and to give the scheduler).
        #[arg(long, default_value = "127.0.0.1")]
        bind: String,
        /// The Arrow Flight port that serves results; the next port takes the
        /// scheduler's tasks unless `--grpc-port` says otherwise.
        #[arg(long, default_value_t = 50051)]
        port: u16,
        #[arg(long)]
        grpc_port: Option<u16>,
        /// Tasks at a time (default: the machine's cores).
        #[arg(long)]
        concurrency: Option<usize>,
        /// Where shuffle files go (default: a folder under the system's temporary one).
        #[arg(long)]
        work_dir: Option<PathBuf>,
    },
    /// Show the logical and physical plans `run` executes for each planned table.
    Plan {
        /// The project folder (default: the current folder).
        #[arg(default_value = ".")]
        path: PathBuf,
        /// Only this table (`dwd.pay_order` or `pay_order`).
        #[arg(long)]
        table: Option<String>,
        /// The business date the plans are for (default: today).
        #[arg(long)]
        date: Option<String>,
        /// The output folder whose partitions the plans scan (default: `[run] out`).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Plan rules as DataFusion's CASE instead of Cranelift kernels.
        #[arg(long)]
        no_jit: bool,
    },
    /// Print the SQL of every planned table, unparsed from the plans `run` executes.
    Sql {
        /// The project folder (default: the current folder).
        #[arg(default_value = ".")]
        path: PathBuf,
        #[arg(long, value_enum, default_value_t = SqlDialect::Datafusion)]
        dialect: SqlDialect,
        /// The business date the statements are for (default: today).
        #[arg(long)]
        date: Option<String>,
        /// The output folder whose partitions the statements read (default: `[run] out`).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Where a metric or a column of a generated table comes from, down to source columns.
    Lineage {
        /// The project folder.
        path: PathBuf,
        /// A metric (`pay_amt_30d`) or a column (`dwd.pay_order.amount`).
        target: String,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Write deterministic synthetic source data for the example project.
    Gen {
        /// The project folder (default: the current folder).
        #[arg(default_value = ".")]
        path: PathBuf,
        #[arg(long, default_value_t = 10_000)]
        consumers: u64,
        #[arg(long, default_value_t = 90)]
        days: u32,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// The last day of the data.
        #[arg(long, default_value = "2025-06-30")]
        end: String,
        /// Where to write; the files land at the locations the sources declare.
        #[arg(long)]
        out: PathBuf,
        /// An adcodes.csv of places (`adcode,name,longitude,latitude`) instead of the
        /// Chinese places compiled into mj.
        #[arg(long)]
        places: Option<PathBuf>,
    },
    /// Identity resolution tools.
    Oneid {
        #[command(subcommand)]
        command: OneidCommand,
    },
    /// An audience on a date: its size, overlaps, routes and a sample of members;
    /// `--explain` shows how many entities each of its conditions keeps.
    Audience {
        /// [PATH] NAME: the project folder (default: the current folder) and the
        /// audience.
        #[arg(num_args = 1..=2, required = true, value_names = ["PATH", "NAME"])]
        args: Vec<String>,
        #[arg(long)]
        date: String,
        /// Entities kept by each condition joined by `and`, in turn.
        #[arg(long)]
        explain: bool,
        /// Members shown.
        #[arg(long, default_value_t = 10)]
        sample: usize,
        /// The output folder of the runs (default: `[run] out`).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Each channel's contribution to an AIPL model's conversions on a date: first
    /// touch, last touch, linear and Markov removal effect, and its share of P and L.
    Attribution {
        /// The project folder (default: the current folder).
        #[arg(default_value = ".")]
        path: PathBuf,
        #[arg(long)]
        date: String,
        /// The AIPL model (default: the project's only one).
        #[arg(long)]
        model: Option<String>,
        /// The output folder of the runs (default: `[run] out`).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Run a project's scan jobs alone: panoramas, corner annotations and point clouds
    /// to floor plans, a glTF model, OBJ, an SVG plan, a JSON summary and a tour page.
    Scan {
        /// The project folder (default: the current folder).
        #[arg(default_value = ".")]
        path: PathBuf,
        /// Only this scan.
        #[arg(long)]
        name: Option<String>,
        /// Where outputs go (default: `[run] out`); scan output paths are relative to it.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Where capture paths are resolved (default: `[data] root`, or the project).
        #[arg(long)]
        data: Option<PathBuf>,
    },
    /// The language server, over standard input and output (for editors).
    Lsp,
    /// The AIPL funnel's history: flows between dates and trends.
    Aipl {
        #[command(subcommand)]
        command: AiplCommand,
    },
}

#[derive(Subcommand)]
enum AiplCommand {
    /// Entities moving between stages from one business date to another.
    Flow {
        /// The project folder (default: the current folder).
        #[arg(default_value = ".")]
        path: PathBuf,
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        /// The AIPL model (default: the project's only one).
        #[arg(long)]
        model: Option<String>,
        /// The output folder of the runs (default: `[run] out`).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Entities per stage on each of the last N days up to a date.
    Trend {
        /// The project folder (default: the current folder).
        #[arg(default_value = ".")]
        path: PathBuf,
        #[arg(long)]
        to: String,
        #[arg(long, default_value_t = 30)]
        days: u32,
        #[arg(long)]
        model: Option<String>,
        /// Break each stage down by the model's `by` (`channel`): one line per date and
        /// value.
        #[arg(long)]
        by: Option<String>,
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum OneidCommand {
    /// The chain of evidence that joined two records in the run of a date, or what
    /// keeps them apart, with the OneIDs that run gave them.
    Explain {
        /// The project folder.
        path: PathBuf,
        #[arg(long)]
        date: String,
        /// The OneID entity (default: the project's only one).
        #[arg(long)]
        entity: Option<String>,
        /// The output folder of the runs (default: `[run] out`).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Show values of `pii` identifiers in clear (masked otherwise).
        #[arg(long)]
        show_pii: bool,
        /// A record as SOURCE:KEY, e.g. crm_member:M00000001.
        a: String,
        b: String,
    },
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum SqlDialect {
    Datafusion,
    Postgres,
    Duckdb,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Format {
    Human,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Init { path, name } => init::init(path, name),
        Command::Check { paths, format } => check(&paths, format),
        Command::Fmt { paths, check } => fmt(&paths, check),
        Command::Run {
            path,
            date,
            out,
            data,
            reuse,
            no_jit,
            show_pii,
            cluster,
            full,
        } => run::run(
            &path,
            &date,
            out,
            data,
            run::Flags {
                reuse,
                jit: !no_jit,
                show_pii,
                full,
            },
            cluster,
        ),
        Command::Scheduler { bind, port } => run::scheduler(&bind, port),
        Command::Executor {
            scheduler,
            bind,
            port,
            grpc_port,
            concurrency,
            work_dir,
        } => run::executor(mj_cluster::ExecutorOptions {
            scheduler,
            grpc_port: grpc_port.unwrap_or(port.wrapping_add(1)),
            work_dir: work_dir
                .unwrap_or_else(|| std::env::temp_dir().join(format!("mj-executor-{port}"))),
            bind,
            port,
            concurrency: concurrency.unwrap_or(0),
        }),
        Command::Sql {
            path,
            dialect,
            date,
            out,
        } => run::sql(
            &path,
            match dialect {
                SqlDialect::Datafusion => mj_runtime::Dialect::DataFusion,
                SqlDialect::Postgres => mj_runtime::Dialect::Postgres,
                SqlDialect::Duckdb => mj_runtime::Dialect::DuckDb,
            },
            date.as_deref(),
            out,
        ),
        Command::Lineage {
            path,
            target,
            format,
        } => run::lineage(&path, &target, format == Format::Json),
        Command::Plan {
            path,
            table,
            date,
            out,
            no_jit,
        } => run::plan(&path, table.as_deref(), date.as_deref(), out, !no_jit),
        Command::Gen {
            path,
            consumers,
            days,
            seed,
            end,
            out,
            places,
        } => run::generate(&path, consumers, days, seed, &end, &out, places),
        Command::Oneid {
            command:
                OneidCommand::Explain {
                    path,
                    date,
                    entity,
                    out,
                    show_pii,
                    a,
                    b,
                },
        } => run::explain(&path, &date, entity.as_deref(), &a, &b, out, show_pii),
        Command::Audience {
            args,
            date,
            explain,
            sample,
            out,
        } => {
            let (path, name) = match args.as_slice() {
                [name] => (PathBuf::from("."), name.clone()),
                [path, name, ..] => (PathBuf::from(path), name.clone()),
                [] => (PathBuf::from("."), String::new()),
            };
            assets::audience(&path, &name, &date, explain, sample, out)
        }
        Command::Scan {
            path,
            name,
            out,
            data,
        } => run::scan(&path, name.as_deref(), out, data),
        Command::Lsp => mj_lsp::run_stdio().map(|()| ExitCode::SUCCESS),
        Command::Attribution {
            path,
            date,
            model,
            out,
        } => assets::attribution(&path, &date, model.as_deref(), out),
        Command::Aipl {
            command:
                AiplCommand::Flow {
                    path,
                    from,
                    to,
                    model,
                    out,
                },
        } => assets::aipl_flow(&path, &from, &to, model.as_deref(), out),
        Command::Aipl {
            command:
                AiplCommand::Trend {
                    path,
                    to,
                    days,
                    model,
                    by,
                    out,
                },
        } => assets::aipl_trend(&path, &to, days, model.as_deref(), by.as_deref(), out),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

fn check(paths: &[PathBuf], format: Format) -> Result<ExitCode, String> {
    let files = project::load(paths)?;
    let db = mj_compiler::Database::default();
    let project = mj_compiler::load(&db, &files.inputs());
    let diags = mj_compiler::all_diagnostics(&db, project);
    let texts = render::Texts::new(&db, project);
    match format {
        Format::Json => println!("{}", render::json(&diags, &texts)),
        Format::Human => {
            let mut err = std::io::stderr().lock();
            render::human(&mut err, &diags, &texts);
            let errors = diags.iter().filter(|d| d.is_error()).count();
            let warnings = diags.len() - errors;
            eprintln!(
                "{}: {} file(s), {errors} error(s), {warnings} warning(s)",
                if errors > 0 { "failed" } else { "ok" },
                files.files.len()
            );
        }
    }
    Ok(if diags.iter().any(|d| d.is_error()) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn fmt(paths: &[PathBuf], check_only: bool) -> Result<ExitCode, String> {
    let files = project::load(paths)?;
    let mut unformatted = 0;
    let mut broken = 0;
    for (i, f) in files.files.iter().enumerate() {
        let parsed = mj_lang::parse(mj_lang::ast::FileId(i as u32), &f.text);
        if !parsed.errors.is_empty() {
            broken += 1;
            eprintln!(
                "{}: cannot format a file with syntax errors (run `mj check`)",
                f.display
            );
            continue;
        }
        // Formatting must change layout only: same tree, same comments.
        let formatted = match mj_lang::format::checked(&parsed.module, &f.text) {
            Ok(None) => continue,
            Ok(Some(formatted)) => formatted,
            Err(why) => return Err(format!("{}: {why}", f.display)),
        };
        unformatted += 1;
        if check_only {
            println!("{}: not formatted", f.display);
        } else {
            std::fs::write(&f.path, &formatted).map_err(|e| format!("{}: {e}", f.display))?;
            println!("{}: formatted", f.display);
        }
    }
    if broken > 0 {
        return Ok(ExitCode::from(1));
    }
    Ok(if check_only && unformatted > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
