-- Project-scoped, de-duplicated views for analysts. Parameterized views: call them
-- as analyst_spans(project = 'my-project'). POST /api/v1/sql rewrites the plain
-- names spans / scores / spans_minute in a caller's query to these views with the
-- caller's own project, so one project can never read another's rows. In remote
-- mode any ClickHouse client can use them directly (see packages/query/README.md).
CREATE VIEW IF NOT EXISTS analyst_spans {{on_cluster}} AS
SELECT * EXCEPT (project_id)
FROM spans FINAL
WHERE project_id = {project:String};

CREATE VIEW IF NOT EXISTS analyst_scores {{on_cluster}} AS
SELECT * EXCEPT (project_id)
FROM scores FINAL
WHERE project_id = {project:String};

-- The rollup keeps its aggregate states: read it with sum(calls), sum(errors),
-- quantilesTDigestMerge(0.5, 0.9, 0.95, 0.99)(duration_q) and GROUP BY.
CREATE VIEW IF NOT EXISTS analyst_spans_minute {{on_cluster}} AS
SELECT * EXCEPT (project_id)
FROM spans_minute
WHERE project_id = {project:String};
