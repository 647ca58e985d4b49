"""Registers every command on the app, in the order a user meets them in a deployment."""

from objectix_edge.cli import (
    bench_cmd,
    build_engine_cmd,
    calibrate_cmd,
    data_cmd,
    demo_cmd,
    deploy_cmd,
    eval_cmd,
    export_cmd,
    import_cmd,
    info_cmd,
    parity_cmd,
    predict_cmd,
    run_cmd,
    train_cmd,
)
from objectix_edge.cli.app import app

app.command("demo")(demo_cmd.demo)
app.command("info")(info_cmd.info)
app.add_typer(data_cmd.app, name="data")
app.command("train")(train_cmd.train)
app.command("eval")(eval_cmd.eval)
app.command("import")(import_cmd.import_)
app.command("export")(export_cmd.export)
app.command("calibrate")(calibrate_cmd.calibrate)
app.command("build-engine")(build_engine_cmd.build_engine)
app.command("parity")(parity_cmd.parity)
app.command("predict")(predict_cmd.predict)
app.command("run")(run_cmd.run)
app.command("bench")(bench_cmd.bench)
app.command("deploy")(deploy_cmd.deploy)
