//! Running one node of the job graph: planned tables streamed into Parquet, the other
//! kinds by their own modules, and what each reports.

use crate::*;

pub(crate) async fn run_node(
    index: usize,
    node: &mj_ir::Table,
    kind: &NodeKind,
    inputs: Vec<(String, Arc<SourceData>)>,
    ctx: &SessionContext,
    opts: &RunOptions,
    staged: &Path,
) -> Result<NodeResult, (usize, RunError)> {
    let started = Instant::now();
    let dt = format!("dt={}", opts.date);
    if opts.reuse && matches!(kind, NodeKind::Source(_) | NodeKind::OneId(_)) {
        let dir = opts.out.join(node.partition(&opts.date));
        if !dir.is_dir() {
            return Err((
                index,
                RunError::node(
                    node,
                    format!(
                        "no earlier run wrote {}; run without reusing sources first",
                        dir.display()
                    ),
                ),
            ));
        }
        let schema = match kind {
            NodeKind::Source(job) => source::schema(job),
            _ => oneid::mapping_schema(),
        };
        return Ok(NodeResult {
            reused: Some((dir, schema)),
            ..NodeResult::new(
                index,
                Output::Done,
                "reused from an earlier run".to_string(),
                started.elapsed().as_secs_f64(),
            )
        });
    }
    match kind {
        NodeKind::Source(job) => {
            let data = source::read(ctx, job, &opts.data)
                .await
                .map_err(|e| (index, e))?;
            let rejected: u64 = data.rejects.iter().map(|b| b.num_rows() as u64).sum();
            let accepted = data.rows();
            let mut tables = vec![(
                format!("ods.{}", job.name),
                format!("ods/{}/{dt}", job.name),
                data.schema.clone(),
                data.batches.clone(),
            )];
            if rejected > 0 {
                tables.push((
                    format!("rejects.{}", job.name),
                    format!("rejects/{}/{dt}", job.name),
                    source::reject_schema(job),
                    data.rejects.clone(),
                ));
            }
            let reject_examples = reject_examples(&data, 10);
            let input = InputReport {
                source: job.name.clone(),
                rows_read: accepted + rejected,
                rows_accepted: accepted,
                rows_rejected: rejected,
                files: data.files.clone(),
                reject_examples,
            };
            Ok(NodeResult {
                index,
                scanned: true,
                reused: None,
                summary: format!(
                    "{} rows read, {accepted} accepted, {rejected} rejected",
                    accepted + rejected
                ),
                output: Output::Source(Arc::new(data)),
                tables,
                written: Vec::new(),
                input: Some(input),
                oneid: None,
                check: None,
                tags: None,
                aipl: None,
                audiences: Vec::new(),
                compare: None,
                export: None,
                contribution: None,
                scan: None,
                seconds: started.elapsed().as_secs_f64(),
            })
        }
        NodeKind::OneId(job) => {
            let job = job.clone();
            let out = opts.out.clone();
            let date = opts.date.clone();
            let show_pii = opts.show_pii;
            let node = format!("oneid.{}", job.name);
            let work = tokio::task::spawn_blocking(move || {
                let refs: Vec<oneid::Input<'_>> = inputs
                    .iter()
                    .map(|(s, d)| oneid::Input { source: s, data: d })
                    .collect();
                let resolved = oneid::resolve(&job, &refs)?;
                let prev = oneid::previous(&out, &job.name, &date)?;
                let assignment = oneid::ids(&job, &date, &resolved, &prev);
                let report = oneid::report(&resolved, &assignment, show_pii);
                let [mapping, changes, registry] = oneid::tables(&resolved, &assignment)?;
                Ok::<_, RunError>((job, report, mapping, changes, registry))
            });
            let (job, report, mapping, changes, registry) = work
                .await
                .map_err(|e| (index, RunError::node(&node, e.to_string())))?
                .map_err(|e| (index, e))?;
            let e = &job.name;
            let summary = format!(
                "{} rows, {} records, {} persons",
                report.rows, report.records, report.persons
            );
            Ok(NodeResult {
                index,
                output: Output::Done,
                scanned: true,
                reused: None,
                tables: vec![
                    (
                        format!("oneid.{e}"),
                        format!("oneid/{e}/{dt}"),
                        mapping.schema(),
                        vec![mapping],
                    ),
                    (
                        format!("oneid.{e}_changes"),
                        format!("oneid/{e}_changes/{dt}"),
                        changes.schema(),
                        vec![changes],
                    ),
                    (
                        format!("oneid.{e}_registry"),
                        format!("oneid/{e}_registry/{dt}"),
                        registry.schema(),
                        vec![registry],
                    ),
                ],
                written: Vec::new(),
                input: None,
                oneid: Some((job.name.clone(), report)),
                check: None,
                tags: None,
                aipl: None,
                audiences: Vec::new(),
                compare: None,
                export: None,
                contribution: None,
                scan: None,
                summary,
                seconds: started.elapsed().as_secs_f64(),
            })
        }
        NodeKind::Contribution(job) => {
            let (tables, report) = attribution::run(ctx, job, &opts.date)
                .await
                .map_err(|e| (index, RunError::node(node, e)))?;
            let summary = format!("{} paths, {} conversions", report.paths, report.conversions);
            Ok(NodeResult {
                tables,
                contribution: Some(report),
                ..NodeResult::new(
                    index,
                    Output::Done,
                    summary,
                    started.elapsed().as_secs_f64(),
                )
            })
        }
        NodeKind::Scan(job) => {
            let job = scan::job(job, &opts.data, &opts.out);
            let (report, files) = tokio::task::spawn_blocking(move || scan::render(&job))
                .await
                .map_err(|e| (index, RunError::node(node, e.to_string())))?
                .map_err(|e| (index, RunError::node(node, e)))?;
            let summary = format!(
                "{} rooms, {:.1} m², {} panoramas, {} outputs",
                report.report.rooms,
                report.report.area_m2,
                report.report.panoramas,
                files.len()
            );
            Ok(NodeResult {
                scan: Some((report, files)),
                ..NodeResult::new(
                    index,
                    Output::Done,
                    summary,
                    started.elapsed().as_secs_f64(),
                )
            })
        }
        NodeKind::Export(job) => {
            let (folder, file, bytes, report) = export::run(ctx, job, &opts.date)
                .await
                .map_err(|e| (index, RunError::node(node, e)))?;
            let summary = format!("{} rows to {}", report.rows, report.path);
            Ok(NodeResult {
                export: Some((folder, file, bytes, report)),
                ..NodeResult::new(
                    index,
                    Output::Done,
                    summary,
                    started.elapsed().as_secs_f64(),
                )
            })
        }
        NodeKind::Compare(job) => {
            let (tables, report) = compare::run(ctx, job, &opts.date)
                .await
                .map_err(|e| (index, RunError::node(node, e)))?;
            let summary = match report.top.first() {
                Some(t) => format!(
                    "{} vs {} entities; most different by {} (p = {})",
                    report.a_entities,
                    report.b_entities,
                    t.attribute,
                    t.p_value.map_or("-".to_string(), |p| format!("{p:.3e}"))
                ),
                None => format!("{} vs {} entities", report.a_entities, report.b_entities),
            };
            Ok(NodeResult {
                tables,
                compare: Some(report),
                ..NodeResult::new(
                    index,
                    Output::Done,
                    summary,
                    started.elapsed().as_secs_f64(),
                )
            })
        }
        NodeKind::Near(job) => {
            let (schema, batches) = near::run(ctx, job)
                .await
                .map_err(|e| (index, RunError::node(node, e)))?;
            let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
            Ok(NodeResult {
                scanned: true,
                tables: vec![(
                    node.to_string(),
                    format!("{}/{}/{dt}", node.layer, node.name),
                    schema,
                    batches,
                )],
                ..NodeResult::new(
                    index,
                    Output::Done,
                    format!("{rows} located"),
                    started.elapsed().as_secs_f64(),
                )
            })
        }
        _ => planned_node(index, node, kind, ctx, opts, staged).await,
    }
}

pub(crate) async fn collect(
    ctx: &SessionContext,
    plan: datafusion::logical_expr::LogicalPlan,
) -> Result<(arrow::datatypes::SchemaRef, Vec<arrow::array::RecordBatch>), String> {
    let df = ctx
        .execute_logical_plan(plan)
        .await
        .map_err(|e| e.to_string())?;
    let schema = Arc::new(df.schema().as_arrow().clone());
    let batches = df.collect().await.map_err(|e| e.to_string())?;
    Ok((schema, batches))
}

/// Runs a plan into one Parquet file, encoding row groups on the blocking pool while
/// the plan computes the next rows; returns the schema and the rows written.
pub(crate) async fn stream_into(
    ctx: &SessionContext,
    node: &str,
    plan: datafusion::logical_expr::LogicalPlan,
    file: PathBuf,
) -> Result<(arrow::datatypes::SchemaRef, u64), RunError> {
    let plain = |e: datafusion::error::DataFusionError| RunError::node(node, e.to_string());
    let df = ctx.execute_logical_plan(plan).await.map_err(plain)?;
    let schema = Arc::new(df.schema().as_arrow().clone());
    let mut stream = df.execute_stream().await.map_err(plain)?;
    // About one row group of batches in flight: the plan keeps going while the
    // writer encodes.
    let (tx, mut rx) =
        tokio::sync::mpsc::channel::<arrow::array::RecordBatch>(write::ROW_GROUP_ROWS / BATCH_ROWS);
    let writer_schema = schema.clone();
    let writer = tokio::task::spawn_blocking(move || {
        let mut w = write::PartWriter::create(&file, writer_schema)?;
        while let Some(b) = rx.blocking_recv() {
            w.push(&b)?;
        }
        w.finish()
    });
    let mut failed = None;
    while let Some(batch) = stream.next().await {
        match batch {
            Ok(b) => {
                if tx.send(b).await.is_err() {
                    // The writer stopped: its error says why.
                    break;
                }
            }
            Err(e) => {
                failed = Some(plain(e));
                break;
            }
        }
    }
    drop(tx);
    let written = writer
        .await
        .map_err(|e| RunError::node(node, format!("the Parquet writer stopped: {e}")))?;
    if let Some(e) = failed {
        return Err(e);
    }
    Ok((schema, written?))
}

/// Runs a planned node: its plan, then what its kind does with the rows.
pub(crate) async fn planned_node(
    index: usize,
    node: &mj_ir::Table,
    kind: &NodeKind,
    ctx: &SessionContext,
    opts: &RunOptions,
    staged: &Path,
) -> Result<NodeResult, (usize, RunError)> {
    let started = Instant::now();
    let fail = |e: String| (index, RunError::node(node, e));
    if let NodeKind::Dimension(job) = kind {
        // A repeated key would multiply the rows of every fact joining it.
        let source = input(ctx, &format!("ods_{}", job.source))
            .await
            .map_err(fail)?;
        let plan = mj_plan::repeated(&format!("ods_{}", job.source), source, &job.key)
            .map_err(|e| fail(e.message))?;
        let (schema, dups) = collect(ctx, plan).await.map_err(fail)?;
        let (n, examples) = examples(&schema, &dups, 10, Some(1));
        if n > 0 {
            return Err(fail(format!(
                "the key `{}` of `{}` repeats, so joining it would multiply rows: {}",
                job.key,
                job.source,
                examples.join("; ")
            )));
        }
    }
    let (plan, rules) = node_plan(ctx, kind, &opts.date, opts.jit)
        .await
        .map_err(fail)?
        .ok_or_else(|| fail("not a planned table".to_string()))?;
    let (layer, name) = (&node.layer, &node.name);
    if !matches!(
        kind,
        NodeKind::Tags(_) | NodeKind::Aipl(_) | NodeKind::Audiences(_) | NodeKind::Check(_)
    ) {
        // Only written: rows go to the Parquet writer as the plan produces them.
        let relative = format!("{layer}/{name}/dt={}", opts.date);
        let file = write::part_file(staged, Path::new(&relative)).map_err(|e| (index, e))?;
        let (schema, rows) = stream_into(&node_context(ctx, kind), &node.to_string(), plan, file)
            .await
            .map_err(|e| (index, e))?;
        let mut result = NodeResult {
            scanned: scanned(kind),
            ..NodeResult::new(
                index,
                Output::Done,
                format!("{rows} rows"),
                started.elapsed().as_secs_f64(),
            )
        };
        result
            .written
            .push((node.to_string(), relative, schema, rows));
        return Ok(result);
    }
    let (schema, batches) = collect(ctx, plan).await.map_err(fail)?;
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    let table = |schema, batches| {
        vec![(
            node.to_string(),
            format!("{layer}/{name}/dt={}", opts.date),
            schema,
            batches,
        )]
    };
    let mut result = NodeResult {
        scanned: scanned(kind),
        ..NodeResult::new(index, Output::Done, format!("{rows} rows"), 0.0)
    };
    if let NodeKind::Tags(job) = kind {
        let (long_schema, long, coverage) = tags::long(job, &schema, &batches).map_err(fail)?;
        result.tables = table(schema, batches);
        result.tables.push((
            format!("ads.{}_tag_values", job.entity),
            format!("ads/{}_tag_values/dt={}", job.entity, opts.date),
            long_schema,
            long,
        ));
        result.tags = Some(TagsReport {
            entity: job.entity.clone(),
            entities: rows as u64,
            tags: coverage,
            rules,
        });
    } else if let NodeKind::Aipl(job) = kind {
        let mut stages: BTreeMap<String, u64> = ["A", "I", "P", "L", "none"]
            .iter()
            .map(|s| (s.to_string(), 0))
            .collect();
        for b in &batches {
            let column = arrow::compute::cast(b.column(1), &arrow::datatypes::DataType::Utf8)
                .map_err(|e| fail(e.to_string()))?;
            let column = column
                .as_any()
                .downcast_ref::<arrow::array::StringArray>()
                .ok_or_else(|| fail("the stage is not text".to_string()))?;
            for i in 0..arrow::array::Array::len(column) {
                use arrow::array::Array;
                let key = if column.is_null(i) {
                    "none"
                } else {
                    column.value(i)
                };
                *stages.entry(key.to_string()).or_default() += 1;
            }
        }
        result.summary = format!(
            "{rows} rows: {}",
            stages
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut by = BTreeMap::new();
        let mut by_tables = Vec::new();
        for b in &job.breakdowns {
            let counts = aipl::counts_by(&batches, &b.name).map_err(|e| fail(e.message))?;
            let mut per: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
            for ((stage, value), n) in &counts {
                if stage != "none" {
                    *per.entry(value.clone())
                        .or_default()
                        .entry(stage.clone())
                        .or_default() += n;
                }
            }
            by.insert(b.name.clone(), per);
            let batch = aipl::counts_batch(&counts, &b.name).map_err(|e| fail(e.message))?;
            by_tables.push((
                format!("ads.aipl_{}_{}", job.name, b.name),
                format!("ads/aipl_{}_{}/dt={}", job.name, b.name, opts.date),
                batch.schema(),
                vec![batch],
            ));
        }
        result.aipl = Some(AiplReport {
            model: job.name.clone(),
            stages,
            by,
            rule: rules,
        });
        // The flow from the day before, when that day has run: a table for dashboards.
        let yesterday = chrono::NaiveDate::parse_from_str(&opts.date, "%Y-%m-%d")
            .map(|d| {
                (d - chrono::Duration::days(1))
                    .format("%Y-%m-%d")
                    .to_string()
            })
            .map_err(|e| fail(e.to_string()))?;
        let flow_table = match aipl::read(&opts.out, &job.name, &yesterday) {
            Ok(before) => {
                let after = aipl::stages(&batches).map_err(|e| fail(e.message))?;
                Some(
                    aipl::flow_batch(&aipl::flow(&before, &after), &yesterday)
                        .map_err(|e| fail(e.message))?,
                )
            }
            Err(_) => None,
        };
        result.tables = table(schema, batches);
        result.tables.extend(by_tables);
        if let Some(b) = flow_table {
            result.tables.push((
                format!("ads.aipl_{}_flow", job.name),
                format!("ads/aipl_{}_flow/dt={}", job.name, opts.date),
                b.schema(),
                vec![b],
            ));
        }
    } else if let NodeKind::Audiences(job) = kind {
        let (members, reports) = audiences::members(job, &schema, &batches).map_err(fail)?;
        result.summary = reports
            .iter()
            .map(|r| format!("{} {}", r.audience, r.members))
            .collect::<Vec<_>>()
            .join(", ");
        result.tables = table(schema, batches);
        for (audience, batch) in members {
            result.tables.push((
                format!("ads.audience_{audience}"),
                format!("ads/audience_{audience}/dt={}", opts.date),
                batch.schema(),
                vec![batch],
            ));
        }
        result.audiences = reports;
    } else if let NodeKind::Check(job) = kind {
        let unique = matches!(job.rule, mj_ir::jobs::CheckKind::Unique(_));
        let (failing, examples) = examples(&schema, &batches, 5, unique.then_some(1));
        let status = match (failing, job.fail_run) {
            (0, _) => "passed",
            (_, true) => "failed",
            (_, false) => "warned",
        };
        if failing > 0 {
            result.tables = table(schema, batches);
            result.tables[0].0 = format!("dq.{}", job.name);
            result.tables[0].1 = format!("dq/{}/dt={}", job.name, opts.date);
        }
        result.summary = format!("{status}, {failing} failing row(s)");
        result.check = Some(CheckReport {
            check: job.name.clone(),
            rule: job.text.clone(),
            fact: job.fact.clone(),
            severity: if job.fail_run { "error" } else { "warn" }.to_string(),
            failing,
            examples,
            status: status.to_string(),
        });
    } else {
        result.tables = table(schema, batches);
    }
    result.seconds = started.elapsed().as_secs_f64();
    Ok(result)
}

/// The number of rows (or, with `count_column`, the sum of that column: rows per
/// repeated value) and up to `max` rows shown as `column=value, …`.
pub(crate) fn examples(
    schema: &arrow::datatypes::SchemaRef,
    batches: &[arrow::array::RecordBatch],
    max: usize,
    count_column: Option<usize>,
) -> (u64, Vec<String>) {
    use arrow::array::Array;
    let mut n = 0u64;
    let mut shown = Vec::new();
    for b in batches {
        for i in 0..b.num_rows() {
            n += count_column
                .and_then(|c| {
                    b.column(c)
                        .as_any()
                        .downcast_ref::<arrow::array::Int64Array>()
                })
                .map_or(1, |a| a.value(i) as u64);
            if shown.len() < max {
                let fields: Vec<String> = schema
                    .fields()
                    .iter()
                    .zip(b.columns())
                    .map(|(f, c)| {
                        let v = if c.is_null(i) {
                            "null".to_string()
                        } else {
                            arrow::util::display::array_value_to_string(c, i).unwrap_or_default()
                        };
                        format!("{}={v}", f.name())
                    })
                    .collect();
                shown.push(fields.join(", "));
            }
        }
    }
    (n, shown)
}

pub(crate) fn reject_examples(data: &SourceData, max: usize) -> Vec<String> {
    use arrow::array::AsArray;
    let mut out = Vec::new();
    for b in &data.rejects {
        let reasons = b.column(b.num_columns() - 1).as_string::<i32>();
        for i in 0..b.num_rows() {
            if out.len() == max {
                return out;
            }
            out.push(reasons.value(i).to_string());
        }
    }
    out
}
