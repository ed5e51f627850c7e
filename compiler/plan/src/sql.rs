//! SQL written from the plans: each planned table's logical plan unparsed by
//! DataFusion's SQL writer, in the DataFusion, PostgreSQL or DuckDB dialect (`mj sql`).

use datafusion::logical_expr::LogicalPlan;
use mj_ir::Table;

use crate::{PlanError, err};

/// SQL dialects `mj sql` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    DataFusion,
    Postgres,
    DuckDb,
}

/// Each table's plan as one SQL statement of `dialect`, in order: (table, SQL). A plan
/// whose meaning the SQL writer would lose is written as a comment saying so.
pub fn unparse(
    plans: &[(Table, LogicalPlan)],
    dialect: Dialect,
) -> Result<Vec<(Table, String)>, PlanError> {
    use datafusion::sql::sqlparser::ast::BinaryOperator;
    use datafusion::sql::unparser::Unparser;
    use datafusion::sql::unparser::dialect::{
        CustomDialectBuilder, DefaultDialect, PostgreSqlDialect,
    };
    // The unparser recurses deeply on nested plans: give it a thread with room.
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(64 << 20)
            .spawn_scoped(scope, || {
                // DuckDB's own dialect writes `//` (integer division) for every
                // division; mj's divisions are over doubles, which DuckDB divides
                // with `/`.
                let (default, postgres, duckdb) = (
                    DefaultDialect {},
                    PostgreSqlDialect {},
                    CustomDialectBuilder::new()
                        .with_division_operator(BinaryOperator::Divide)
                        .build(),
                );
                let unparser = Unparser::new(match dialect {
                    Dialect::DataFusion => &default,
                    Dialect::Postgres => &postgres,
                    Dialect::DuckDb => &duckdb,
                })
                .with_pretty(true);
                let mut out = Vec::new();
                for (node, plan) in plans {
                    // DataFusion's SQL writer drops an aggregate's ORDER BY, which
                    // would turn `latest` into "any value": say so instead of writing
                    // SQL that means something else.
                    if let Some(f) = ordered_aggregate(plan) {
                        out.push((
                            node.clone(),
                            format!(
                                "-- not written: `{f}` aggregates in an order, which the SQL \
                                 writer cannot express yet; `mj plan --table {node}` shows the plan"
                            ),
                        ));
                        continue;
                    }
                    let statement = unparser
                        .plan_to_sql(plan)
                        .map_err(|e| err(format!("{node}: cannot write SQL: {e}")))?;
                    out.push((node.clone(), statement.to_string()));
                }
                Ok(out)
            })
            .map_err(|e| err(e.to_string()))?
            .join()
            .map_err(|_| err("the SQL writer panicked"))?
    })
}

/// The first aggregate of a plan that takes an `ORDER BY` (`first_value(x ORDER BY t)`).
fn ordered_aggregate(plan: &LogicalPlan) -> Option<String> {
    use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
    let mut found = None;
    let _ = plan.apply(|node| {
        for e in node.expressions() {
            let _ = e.apply(|x| {
                if let datafusion::logical_expr::Expr::AggregateFunction(a) = x
                    && !a.params.order_by.is_empty()
                {
                    found = Some(a.func.name().to_string());
                    return Ok(TreeNodeRecursion::Stop);
                }
                Ok(TreeNodeRecursion::Continue)
            });
        }
        Ok(if found.is_some() {
            TreeNodeRecursion::Stop
        } else {
            TreeNodeRecursion::Continue
        })
    });
    found
}
