//! mj on Apache Ballista, for when one machine is not enough: a scheduler and executors
//! built from Ballista's library crates with mj's functions known to them, and the
//! client session `mj run --cluster` plans in.
//!
//! What travels: every plan mj builds scans Parquet partitions by path and calls only
//! DataFusion's functions and mj's rule kernels (`mj_runtime::travel`). The codec here
//! writes a kernel as its rule and compiles it again on the scheduler and on each
//! executor; everything else goes to Ballista's own codecs. Paths must be readable by
//! every executor at the same place: a shared file system.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ballista::prelude::{SessionConfigExt, SessionContextExt};
use ballista_core::serde::{BallistaLogicalExtensionCodec, BallistaPhysicalExtensionCodec};
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use datafusion_proto::physical_plan::PhysicalExtensionCodec;
use mj_runtime::travel::MjCodec;

/// Executors ask the scheduler for work (Spark's way) rather than being sent it:
/// when an executor is lost, the tasks Ballista resets are taken up by the next
/// poll of the others, where the push policy left them waiting for an offer.
const POLICY: ballista_core::config::TaskSchedulingPolicy =
    ballista_core::config::TaskSchedulingPolicy::PullStaged;

/// How often an executor tells the scheduler it is alive.
pub const HEARTBEAT_SECONDS: u64 = 3;
/// How long the scheduler waits for a silent executor before it gives its work to
/// the others (several heartbeats, so one late beat is not a loss).
pub const EXECUTOR_TIMEOUT_SECONDS: u64 = 15;

/// mj's codecs over Ballista's: (logical, physical).
pub fn codecs() -> (
    Arc<dyn LogicalExtensionCodec>,
    Arc<dyn PhysicalExtensionCodec>,
) {
    let codec = MjCodec::over(
        Arc::new(BallistaLogicalExtensionCodec::default()),
        Arc::new(BallistaPhysicalExtensionCodec::default()),
    );
    (Arc::new(codec.clone()), Arc::new(codec))
}

/// `host:port` of a `df://host:port` address (the port defaults to 50050).
pub fn address(url: &str) -> Result<String, String> {
    let rest = url.strip_prefix("df://").ok_or_else(|| {
        format!("`{url}` is not a cluster address: write df://HOST:PORT (a Ballista scheduler)")
    })?;
    let rest = rest.trim_end_matches('/');
    if rest.is_empty() {
        return Err(format!("`{url}` names no host: write df://HOST:PORT"));
    }
    Ok(if rest.contains(':') {
        rest.to_string()
    } else {
        format!("{rest}:50050")
    })
}

/// The session a run plans in on the cluster: the local session's settings, with
/// Ballista's planner (each query a job of the scheduler at `url`) and mj's codecs.
/// Fails fast, naming the address, when no scheduler answers there.
pub async fn session(url: &str) -> Result<SessionContext, String> {
    let addr = address(url)?;
    match tokio::time::timeout(
        Duration::from_secs(5),
        tokio::net::TcpStream::connect(&addr),
    )
    .await
    {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => return Err(format!("no scheduler answers at {url}: {e}")),
        Err(_) => {
            return Err(format!(
                "no scheduler answers at {url}: timed out after 5 s"
            ));
        }
    }
    SessionContext::remote_with_state(&format!("df://{addr}"), state())
        .await
        .map_err(|e| format!("cannot open a session on {url}: {e}"))
}

/// The client's session state on a cluster: the local session's settings, mj's codecs
/// and the static planner.
fn state() -> datafusion::execution::SessionState {
    let (logical, physical) = codecs();
    let local = mj_runtime::session();
    let config = SessionConfig::new_with_ballista()
        .with_target_partitions(local.copied_config().target_partitions())
        .with_batch_size(local.copied_config().batch_size())
        .with_ballista_logical_extension_codec(logical)
        .with_ballista_physical_extension_codec(physical)
        // The static planner: faster than the adaptive one on mj's plans.
        .with_ballista_adaptive_query_planner(false);
    SessionStateBuilder::new()
        .with_default_features()
        .with_config(config)
        .build()
}

/// A session on a scheduler and an executor in this process (Ballista's standalone
/// mode), with the client's settings and codecs: plans still go through the
/// scheduler, are written with the codecs and read back by the executor. For tests.
#[cfg(feature = "standalone")]
pub async fn standalone() -> Result<SessionContext, String> {
    SessionContext::standalone_with_state(state())
        .await
        .map_err(|e| format!("cannot start a standalone cluster: {e}"))
}

/// Waits for SIGTERM or Ctrl-C.
async fn stopped() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Binds `bind:port`, saying so plainly when the port is taken.
async fn listen(what: &str, bind: &str, port: u16) -> Result<tokio::net::TcpListener, String> {
    let addr: SocketAddr = format!("{bind}:{port}")
        .parse()
        .map_err(|e| format!("`{bind}:{port}` is not an address to listen on: {e}"))?;
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AddrInUse => {
                format!("the {what} cannot listen on {addr}: the port is taken; choose another with --port")
            }
            _ => format!("the {what} cannot listen on {addr}: {e}"),
        })
}

/// `mj scheduler`: Ballista's scheduler on `bind:port`, decoding mj's functions, until
/// SIGTERM or Ctrl-C. `on_ready` is called once it listens.
pub async fn scheduler(bind: &str, port: u16, on_ready: impl FnOnce(&str)) -> Result<(), String> {
    use ballista_scheduler::cluster::BallistaCluster;
    use ballista_scheduler::config::SchedulerConfig;
    use ballista_scheduler::scheduler_process::{
        create_scheduler, start_grpc_service_with_listener,
    };
    use datafusion_proto::protobuf::{LogicalPlanNode, PhysicalPlanNode};
    // Bound before anything starts, so a taken port is the first and only error.
    let listener = listen("scheduler", bind, port).await?;
    let (logical, physical) = codecs();
    let config = SchedulerConfig {
        bind_host: bind.to_string(),
        external_host: bind.to_string(),
        bind_port: port,
        override_logical_codec: Some(logical),
        override_physical_codec: Some(physical),
        // A lost executor is noticed within seconds, not Ballista's default three
        // minutes: its tasks go to the others, or the job fails when none is left.
        scheduling_policy: POLICY,
        executor_timeout_seconds: EXECUTOR_TIMEOUT_SECONDS,
        expire_dead_executor_interval_seconds: 2,
        no_executors_grace_period_seconds: EXECUTOR_TIMEOUT_SECONDS,
        ..Default::default()
    };
    let cluster = BallistaCluster::new_from_config(&config)
        .await
        .map_err(|e| format!("the scheduler cannot start: {e}"))?;
    let server = create_scheduler::<LogicalPlanNode, PhysicalPlanNode>(cluster, Arc::new(config))
        .await
        .map_err(|e| format!("the scheduler cannot start: {e}"))?;
    on_ready(&format!("{bind}:{port}"));
    tokio::select! {
        served = start_grpc_service_with_listener(listener, server) => {
            served.map_err(|e| format!("the scheduler stopped: {e}"))
        }
        _ = stopped() => Ok(()),
    }
}

/// What an executor is told.
#[derive(Clone, Debug)]
pub struct ExecutorOptions {
    /// `HOST:PORT` of the scheduler.
    pub scheduler: String,
    pub bind: String,
    /// The Arrow Flight port that serves the executor's results.
    pub port: u16,
    /// The gRPC port the scheduler pushes tasks to (`port + 1` unless given).
    pub grpc_port: u16,
    /// Tasks at a time (the machine's cores unless given).
    pub concurrency: usize,
    /// Where shuffle files go.
    pub work_dir: std::path::PathBuf,
}

/// `mj executor`: Ballista's executor, registered with the scheduler, compiling mj's
/// rule kernels from the rules its tasks carry, until SIGTERM or Ctrl-C (Ballista
/// drains running tasks first). `on_ready` is called once its ports are free and it
/// starts.
pub async fn executor(opts: &ExecutorOptions, on_ready: impl FnOnce(&str)) -> Result<(), String> {
    use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
    let (host, port) = opts.scheduler.rsplit_once(':').ok_or_else(|| {
        format!(
            "`{}` is not a scheduler address: write HOST:PORT",
            opts.scheduler
        )
    })?;
    let scheduler_port: u16 = port
        .parse()
        .map_err(|_| format!("`{port}` is not a port of the scheduler"))?;
    // Ballista reports a taken Flight port only in its log: check both ports first.
    drop(listen("executor", &opts.bind, opts.port).await?);
    drop(listen("executor", &opts.bind, opts.grpc_port).await?);
    match tokio::time::timeout(
        Duration::from_secs(5),
        tokio::net::TcpStream::connect(&opts.scheduler),
    )
    .await
    {
        Ok(Ok(_)) => {}
        _ => {
            return Err(format!(
                "no scheduler answers at {}: start `mj scheduler` there first",
                opts.scheduler
            ));
        }
    }
    std::fs::create_dir_all(&opts.work_dir).map_err(|e| {
        format!(
            "the executor cannot use {} for its work: {e}",
            opts.work_dir.display()
        )
    })?;
    let (logical, physical) = codecs();
    let config = ExecutorProcessConfig {
        bind_host: opts.bind.clone(),
        external_host: Some(opts.bind.clone()),
        port: opts.port,
        grpc_port: opts.grpc_port,
        scheduler_host: host.to_string(),
        scheduler_port,
        scheduler_connect_timeout_seconds: 10,
        vcores: opts.concurrency,
        work_dir: Some(opts.work_dir.to_string_lossy().to_string()),
        print_thread_info: false,
        executor_heartbeat_interval_seconds: HEARTBEAT_SECONDS,
        task_scheduling_policy: POLICY,
        override_logical_codec: Some(logical),
        override_physical_codec: Some(physical),
        ..Default::default()
    };
    on_ready(&format!("{}:{}", opts.bind, opts.port));
    start_executor_process(Arc::new(config))
        .await
        .map_err(|e| format!("the executor stopped: {e}"))
}
