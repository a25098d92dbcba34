"""Pause, wait for the build, pick a template and a preset, clean up: as people write it."""

from __future__ import annotations

from coder_tasks_async import (
    BuildFailedError,
    CoderTasksClient,
    Preset,
    ProvisionerJobStatus,
    Task,
    TaskList,
    WaitTimeoutError,
    WorkspaceBuild,
    WorkspaceTransition,
)


async def pause_and_wait(coder: CoderTasksClient, task: Task) -> WorkspaceBuild | None:
    build = await coder.pause_task(task)
    if build.transition is WorkspaceTransition.STOP and build.job is not None:
        print(build.job.status, build.initiator_name, build.build_number)
    try:
        return await coder.wait_for_build(build, timeout=300)
    except BuildFailedError as exc:
        failed: WorkspaceBuild = exc.build
        print("failed:", failed.job.error if failed.job else "")
    except WaitTimeoutError as exc:
        print("still running:", exc.build.job_status if exc.build else ProvisionerJobStatus.UNKNOWN)
    return None


async def start(coder: CoderTasksClient, prompt: str) -> Task:
    (template,) = await coder.list_templates(has_ai_task=True)
    version = await coder.get_template_version(template, "v1")
    presets: list[Preset] = await coder.list_presets(version)
    default = next((p for p in presets if p.default), None)
    preset = default or await coder.get_preset(version, "Large")
    return await coder.create_task(
        prompt, template_version_id=version.id, template_version_preset_id=preset.id
    )


async def clean_up(coder: CoderTasksClient) -> int:
    tasks: TaskList = await coder.list_tasks(query="status:paused")
    await coder.delete_many(tasks, wait_build=60)
    await coder.delete_task("/leftover", wait_build=0)
    return tasks.total + len(tasks)
