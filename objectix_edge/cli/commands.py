"""Registers every command on the app, in the order a user meets them in a deployment."""

from objectix_edge.cli import (
    bench,
    build_engine,
    calibrate,
    data,
    demo,
    deploy,
    export,
    import_cmd,
    info,
    parity,
    predict,
    run,
    train,
)
from objectix_edge.cli import eval as eval_cmd
from objectix_edge.cli.app import app

app.command("demo")(demo.demo)
app.command("info")(info.info)
app.add_typer(data.app, name="data")
app.command("train")(train.train)
app.command("eval")(eval_cmd.eval)
app.command("import")(import_cmd.import_)
app.command("export")(export.export)
app.command("calibrate")(calibrate.calibrate)
app.command("build-engine")(build_engine.build_engine)
app.command("parity")(parity.parity)
app.command("predict")(predict.predict)
app.command("run")(run.run)
app.command("bench")(bench.bench)
app.command("deploy")(deploy.deploy)
