# Copyright: hvtune developers
# MIT License (see the repository's pyproject.toml)
"""Running the hvtune command on the managed host for the hvtune.kvm modules.

The modules run ``hvtune ... --format json`` rather than importing hvtune:
hvtune lives in its own virtual environment (the hvtune.kvm.install role puts
it there), while a module runs under the host's ansible_python_interpreter;
and the JSON records are hvtune's versioned contract (each names its schema,
``hvtune/doctor/2``, ``hvtune/fix-connect/1``), so a module refuses a record
of a schema it does not know instead of misreading it.
"""

import json


def connection_argument_spec():
    """The options every hvtune.kvm module shares (doc fragment hvtune.kvm.connection)."""
    return dict(
        uri=dict(type="str", default="qemu:///system"),
        command=dict(type="list", elements="str", default=["hvtune"]),
        os=dict(type="str"),
        host=dict(type="str"),
        migratable=dict(type="bool", default=False),
    )


def judging_arguments(params):
    """The hvtune options for the shared module options (the daemon and how to judge)."""
    arguments = ["--connect", params["uri"]]
    if params["os"]:
        arguments += ["--os", params["os"]]
    if params["host"]:
        arguments += ["--host", params["host"]]
    if params["migratable"]:
        arguments.append("--migratable")
    return arguments


def _executable(module):
    """The command line that starts hvtune: the first word found on PATH (or
    in the usual bin folders) unless it is a path."""
    words = list(module.params["command"])
    if not words:
        module.fail_json(msg="command must name the hvtune program")
    if "/" not in words[0]:
        words[0] = module.get_bin_path(words[0], required=True)
    return words


def run_hvtune(module, arguments, schema):
    """Run ``hvtune ARGUMENTS --format json`` and return its record, which
    must be of `schema`. Exit codes 0 and 1 (findings that fail hvtune's own
    gate, or errors left) come with a record; any other exit without one
    fails the task with hvtune's one-line error. Lines hvtune wrote on
    standard error beside a record (an unusable domain) become warnings."""
    command = _executable(module) + list(arguments) + ["--format", "json"]
    rc, out, err = module.run_command(command)
    record = _record(out)
    if record is None:
        problem = err.strip() or out.strip() or "no output"
        module.fail_json(msg=f"hvtune failed (exit {rc}): {problem}", rc=rc, cmd=command)
    if record["schema"] != schema:
        module.fail_json(
            msg=f"hvtune wrote a {record['schema']} record where {schema} was expected: "
            "install a matching hvtune.kvm collection",
            cmd=command,
        )
    for line in err.splitlines():
        if line.strip():
            module.warn(line.strip())
    return record


def _record(out):
    """The record hvtune printed (a JSON object naming its schema), or None."""
    try:
        record = json.loads(out)
    except ValueError:
        return None
    return record if isinstance(record, dict) and "schema" in record else None
