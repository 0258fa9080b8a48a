"""The README documents every command the bot registers in Discord, each with an example."""

from __future__ import annotations

from tests.conftest import REPO

SLASH, SUBCOMMAND, MESSAGE_MENU = 1, 1, 3


def command_rows() -> list[str]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    return [line for line in readme.splitlines() if line.startswith(("| `/", "| *Apps"))]


async def test_every_registered_command_has_a_readme_row_with_an_example(world):
    registered = world.discord.commands[world["guild"]]
    names = []
    for command in registered:
        if command.get("type", SLASH) == MESSAGE_MENU:
            names.append(command["name"])
            continue
        subcommands = [o["name"] for o in command.get("options", []) if o["type"] == SUBCOMMAND]
        names += [f"/{command['name']} {sub}" for sub in subcommands] or [f"/{command['name']}"]
    assert len(names) >= 15  # ask, search, 4 privacy, 10 memory, the message menu
    rows = command_rows()
    for name in names:
        documented = [row for row in rows if f"{name} " in row or f"{name}`" in row or f"{name}*" in row]
        assert documented, f"{name} is not in the README's command tables"
        assert any("Example" in row or "example" in row for row in documented), f"{name} has no example"
