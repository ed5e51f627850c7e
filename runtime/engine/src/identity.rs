//! Identity resolution of a run's partitions, for `mj oneid explain` and tests.

use crate::*;

/// Reads the sources an entity links and resolves it, for `mj oneid explain`.
pub async fn resolve_entity(
    graph: &JobGraph,
    entity: Option<&str>,
    data: &Path,
) -> Result<(mj_ir::jobs::OneIdJob, oneid::Resolved), RunError> {
    let (job, inputs) = read_entity_sources(graph, entity, data).await?;
    let refs: Vec<oneid::Input<'_>> = inputs
        .iter()
        .map(|(s, d)| oneid::Input { source: s, data: d })
        .collect();
    let resolved = oneid::resolve(&job, &refs)?;
    Ok((job, resolved))
}

/// Resolves `entity` again from the sources' partitions a run of `date` wrote
/// (`OUT/ods/<source>/dt=DATE`): the same rows give the same people, so this explains
/// that run, whatever the source files hold today. Fails naming the partition a run
/// of that date did not write.
pub async fn resolve_entity_of_run(
    graph: &JobGraph,
    entity: Option<&str>,
    out: &Path,
    date: &str,
) -> Result<(mj_ir::jobs::OneIdJob, oneid::Resolved), RunError> {
    let job = oneid_job(graph, entity)?;
    let mut inputs = Vec::new();
    for s in linked_sources(graph, &job) {
        let dir = out.join(format!("ods/{}/dt={date}", s.name));
        if !dir.is_dir() {
            return Err(RunError {
                message: format!(
                    "no run of {date} wrote {}; run `mj run --date {date}` first",
                    dir.display()
                ),
            });
        }
        let data = SourceData {
            schema: source::schema(s),
            batches: write::read_partition(&dir)?,
            rejects: Vec::new(),
            files: Vec::new(),
        };
        inputs.push((s.name.clone(), data));
    }
    let refs: Vec<oneid::Input<'_>> = inputs
        .iter()
        .map(|(s, d)| oneid::Input { source: s, data: d })
        .collect();
    let resolved = oneid::resolve(&job, &refs)?;
    Ok((job, resolved))
}

/// The sources a OneID job links, in the order of its links.
pub(crate) fn linked_sources<'a>(
    graph: &'a JobGraph,
    job: &'a mj_ir::jobs::OneIdJob,
) -> impl Iterator<Item = &'a mj_ir::jobs::SourceJob> {
    job.links.iter().filter_map(move |link| {
        graph.nodes.iter().find_map(|n| match &n.kind {
            NodeKind::Source(s) if s.name == link.source => Some(s),
            _ => None,
        })
    })
}

/// The OneID job of `entity` (the only one when `None`).
pub(crate) fn oneid_job(
    graph: &JobGraph,
    entity: Option<&str>,
) -> Result<mj_ir::jobs::OneIdJob, RunError> {
    graph
        .nodes
        .iter()
        .find_map(|n| match &n.kind {
            NodeKind::OneId(j) if entity.is_none_or(|e| e == j.name) => Some(j.clone()),
            _ => None,
        })
        .ok_or_else(|| RunError {
            message: match entity {
                Some(e) => format!("the project has no oneid `{e}`"),
                None => "the project has no oneid item".to_string(),
            },
        })
}

/// The OneID job of `entity` (the only one when `None`) and the rows of the sources
/// it links, read as `mj run` reads them.
pub async fn read_entity_sources(
    graph: &JobGraph,
    entity: Option<&str>,
    data: &Path,
) -> Result<(mj_ir::jobs::OneIdJob, Vec<(String, SourceData)>), RunError> {
    let ctx = session();
    let job = oneid_job(graph, entity)?;
    let mut inputs = Vec::new();
    for s in linked_sources(graph, &job) {
        inputs.push((
            s.name.clone(),
            source::read(&ctx, s, data, &Default::default(), None).await?,
        ));
    }
    Ok((job, inputs))
}
