"""Generate the sample dataset in samples/docs and samples/chat.

The data describes "Lighthouse", a fictional small team building an open-source
photo-backup app. It is used by the README quickstart and by the tests.

Deterministic and rerunnable: every byte written depends only on this script
(no clocks, no randomness without a fixed seed). Needs the standard library
and python-docx only.

    python samples/make_samples.py
"""

from __future__ import annotations

import csv
import io
import json
import random
import textwrap
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
DOCS = HERE / "docs"
CHAT = HERE / "chat"

FIXED_ZIP_TIME = (2024, 3, 14, 9, 30, 0)


# ---------------------------------------------------------------------------
# onboarding.md
# ---------------------------------------------------------------------------

ONBOARDING_MD = """\
# Lighthouse developer onboarding

Welcome to Lighthouse! This page gets you from a fresh laptop to a merged pull
request. Lighthouse is an open-source photo-backup app: a Python server that
stores originals on S3-compatible object storage, an Android app, and a small
web UI. Most of the team is part-time and spread over four time zones, so we
write things down. If something here is out of date, fix it in the same PR that
made you notice.

## Development setup

You need Python 3.11, Docker (for the local storage backend), and the libvips
headers for the thumbnailer.

1. Install the system packages. On Debian or Ubuntu:
   `sudo apt install libvips-dev libheif-dev build-essential`.
   On macOS: `brew install vips libheif`.
2. Clone the repository and run `make dev`. This creates `.venv`, installs the
   server in editable mode with the `dev` extras, and installs the pre-commit
   hooks (ruff, mypy, and a check that no file is larger than 1 MB).
3. Start the local S3-compatible backend with `docker compose up -d minio`.
   About a third of the test suite talks to it. The bucket `lighthouse-dev` is
   created automatically; the console is on http://localhost:9001 with the
   credentials from `.env.example`.
4. Run the tests with `make test`. CI runs the same suite with
   `pytest -n 4`, so if you touch anything with shared state, run it in parallel
   locally too.
5. Run the server with `make run` and open http://localhost:8080. The seed
   script `scripts/seed_library.py` uploads 500 sample photos so the timeline is
   not empty.

The Android app lives in `android/` and builds with Android Studio Hedgehog or
newer. You do not need it for server work.

### Useful make targets

- `make lint` runs ruff and mypy exactly as CI does.
- `make thumbs` regenerates the thumbnail cache for the seeded library.
- `make clean` removes the venv, caches and the local MinIO volume.

## Code review rules

Every change goes through a pull request, including changes by maintainers.

- **Two approvals.** A PR needs two approving reviews, at least one of them from
  a maintainer (Maya Okafor, Tomás Rivera or Jonas Berg). The author cannot
  count as a reviewer.
- **CI must be green.** Do not merge on a red build, and do not re-run a failing
  job hoping it passes. Flaky tests are bugs: a flaky test gets fixed within a
  week or deleted. We do not quarantine or auto-retry tests.
- **Small PRs.** Aim for under 400 changed lines. Large refactors get split into
  a preparatory PR that moves code and a second one that changes behaviour.
- **Review within one working day.** If you cannot, say so in the PR so the
  author can ask someone else.
- **No force-push after review has started.** Push fixup commits; we squash on
  merge.
- **Commit titles** follow Conventional Commits (`fix:`, `feat:`, `test:`,
  `docs:`, `chore:`). The squash-merge title ends up in the changelog, so make
  it readable for users.
- **Anything touching storage or the upload path** also needs a note in the PR
  description about what happens to in-flight uploads during a deploy.

Reviewers should be kind and specific. Prefix optional suggestions with
"nit:" so the author knows they can be ignored.

## Release process

We ship on a release train, roughly every four weeks.

1. At the start of a cycle the maintainers create a GitHub milestone and assign
   a release owner for each platform (server and Docker images, Android, web).
   Owners are announced in #dev.
2. **Code freeze** is the Thursday before the release. After the freeze only
   bug fixes go into the `release/x.y` branch, and each needs an approval from
   the release owner of that platform.
3. The server release owner tags `vX.Y.Z` on the release branch. CI builds the
   Docker images (`amd64` and `arm64`, the latter for Raspberry Pi and NAS
   users) and publishes them to the registry.
4. The hosted instance is deployed with `deploy.sh` following
   `runbook-deploys.txt`. Remember that deploys are frozen around the weekly
   deploy key rotation.
5. Android goes out through a Play Console staged rollout: 10%, then 50%, then
   100%, each step only if the crash-free rate stays above 99.5%.
6. The changelog is generated from squash-merge titles and edited by hand.
   Post the release announcement in #announcements and on the forum.

Patch releases (`x.y.Z`) skip the freeze and can go out any weekday except
Friday afternoon.

## Where to ask

- #dev on Discord for anything about the code.
- #ops for deploys, access requests and the hosted instance.
- Security issues go to security@lighthouse-photos.org, never to a public issue.
"""


# ---------------------------------------------------------------------------
# runbook-deploys.txt
# ---------------------------------------------------------------------------

RUNBOOK_TXT = """\
LIGHTHOUSE HOSTED INSTANCE - DEPLOY RUNBOOK
===========================================

Owner: Jonas Berg (infra)
Last reviewed: 2024-03-21 (section 6 added after the 2024-03-12 outage)
Applies to: production (eu-1) and staging

This runbook covers deploying the Lighthouse server to the hosted instance,
rolling back, the weekly deploy key rotation, and who to call when something
goes wrong. Self-hosters do not need any of this; it only concerns the
instance we run at app.lighthouse-photos.org.


1. BEFORE YOU DEPLOY
--------------------

- You need deploy access: membership in the "deployers" group and the current
  deploy key from the vault (see section 4). Access requests go as an issue in
  the lighthouse/infra repository, including your SSH key fingerprint.
- Check #ops for ongoing incidents or maintenance. Do not deploy during an
  incident unless the deploy is the fix.
- The release must be tagged and the Docker image must exist in the registry.
  CI publishes images for every tag; `deploy.sh` refuses untagged builds.
- Never deploy on Friday after 15:30 UTC (see the deploy key rotation below).


2. HOW TO DEPLOY
----------------

The hosted instance runs on two application VMs (app-1, app-2) behind Caddy,
three MinIO storage nodes (minio-1..3) and a separate thumbnail worker VM.

  1. Load the deploy key:   lh-vault read deploy/prod | ssh-add -
  2. Check the target:      ./deploy.sh status prod
  3. Deploy a tag:          ./deploy.sh prod v2.3.1
  4. Watch the dashboard "Uploads / errors" for 15 minutes.

deploy.sh does a rolling deploy: it drains app-1 in Caddy, waits for
in-flight uploads to finish (at most 120 seconds; resumable uploads continue
on app-2), switches the container, runs the health check, and then does the
same for app-2. Database migrations run once, before the first node is
switched, and must be backwards compatible with the previous release.

Staging works the same way with "staging" instead of "prod" and the key from
deploy/staging. Deploy every release to staging first and leave it there for
at least one hour.


3. ROLLBACK
-----------

If error rates go up or the health check fails:

  ./deploy.sh rollback prod

This redeploys the previous tag on both nodes, using the same rolling
procedure. It does NOT roll back database migrations; that is why migrations
must be backwards compatible. If a migration itself is broken, page the
secondary on call and do not improvise.

After a rollback, post in #ops what you rolled back and why, and open an issue
with the "regression" label.


4. DEPLOY KEY ROTATION (EVERY FRIDAY)
-------------------------------------

The production deploy key rotates every Friday at 16:00 UTC. The old key is
revoked on all hosts at the moment of rotation, so any deploy that is still
running at 16:00 UTC will fail halfway.

- Deploy freeze: Friday 15:30 to 16:30 UTC. Nothing goes to production in
  that window.
- The rotation is done by Jonas Berg, or by Tomás Rivera when Jonas is away.
  Announce the start and the end in #ops.
- Procedure: run `infra/rotate-deploy-key.sh prod`, which generates a new
  ed25519 key, stores it in the vault under deploy/prod, installs it on all
  hosts and removes the old one. Post the new key fingerprint in #ops.
- After the rotation everyone who deploys must fetch the new key again with
  `lh-vault read deploy/prod`. If `deploy.sh status prod` says "permission
  denied (publickey)", you still have the old key loaded.
- The staging key rotates at the same time with the same script
  (`rotate-deploy-key.sh staging`).

Why Friday 16:00 UTC: it is the one slot in the week when both people who can
rotate are online and nobody is deploying. Please do not reschedule it without
talking to infra.


5. ON CALL
----------

We run a weekly on-call rota with a primary and a secondary. Handover is on
Monday at 10:00 UTC in #ops. The current rota members are Jonas Berg,
Tomás Rivera and Maya Okafor. The schedule lives in the paging tool; the week's
primary is also in the #ops channel topic.

Escalation order:
  1. Primary on call (paged automatically by alerts)
  2. Secondary on call (paged if the primary does not acknowledge in 15 min)
  3. Maya Okafor (project lead), by phone

The primary on call owns incidents until handed over and writes the
postmortem for anything that affected users for longer than 30 minutes.


6. CERTIFICATES
---------------

The storage endpoints use Let's Encrypt certificates renewed by certbot with a
DNS-01 challenge. Expiry alerts fire 21 days before a certificate expires and
page at 7 days. See the postmortem of 2024-03-12 for why this matters.
"""


# ---------------------------------------------------------------------------
# architecture.html
# ---------------------------------------------------------------------------

ARCHITECTURE_HTML = """\
<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Lighthouse architecture overview</title>
  <style>
    body { font-family: system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; color: #1d2430; }
    h1, h2 { color: #0b4f6c; }
    .sidebar { position: fixed; left: 1rem; top: 2rem; width: 12rem; font-size: 0.85rem; }
    .note { background: #fff7d6; border-left: 4px solid #e0b400; padding: 0.5rem 1rem; }
    code { background: #eef1f5; padding: 0 0.2rem; }
  </style>
  <script>
    // Highlights the section currently on screen in the sidebar.
    window.lhDocsNav = function highlightCurrentSection() {
      const headings = document.querySelectorAll("h2[id]");
      let current = null;
      headings.forEach(function (h) { if (h.getBoundingClientRect().top < 120) current = h.id; });
      document.querySelectorAll(".sidebar a").forEach(function (a) {
        a.classList.toggle("active", a.getAttribute("href") === "#" + current);
      });
    };
    document.addEventListener("scroll", window.lhDocsNav, { passive: true });
  </script>
</head>
<body>
  <nav class="sidebar">
    <a href="#overview">Overview</a>
    <a href="#upload-path">Upload path</a>
    <a href="#thumbnails">Thumbnails</a>
    <a href="#storage">Storage</a>
    <a href="#metadata-index">Metadata index</a>
    <a href="#clients">Clients</a>
  </nav>
  <main>
    <h1>Lighthouse architecture overview</h1>
    <p>Last updated 2024-03-05 by Tomás Rivera. This page describes how the
    Lighthouse server is put together, for contributors who want to find their
    way around before changing something. It describes the hosted instance; a
    self-hosted install is the same minus the second app node.</p>

    <h2 id="overview">Overview</h2>
    <p>Lighthouse backs up photos and videos from phones and desktops to
    storage the user controls. The server is a single Python application
    (FastAPI) with three kinds of processes:</p>
    <ul>
      <li><strong>API process</strong>: authentication, the upload endpoints,
      the timeline and album APIs, and sharing links.</li>
      <li><strong>Thumbnail workers</strong>: turn originals into the 256 px
      and 1024 px previews shown in the apps.</li>
      <li><strong>Archiver</strong>: a nightly job that moves old backups to
      the cold storage tier and verifies checksums.</li>
    </ul>
    <p>All three share the same code base and configuration file, including
    <code>feature-flags.json</code>. They talk to each other only through the
    object store and the metadata index; there is no message broker.</p>

    <h2 id="upload-path">Upload path</h2>
    <p>Clients upload with a resumable protocol: the client asks for an upload
    session, sends the file in 8 MiB chunks, and finishes the session with the
    SHA-256 of the whole file. The server streams each chunk straight to the
    object store as a multipart upload, so the API process never holds a whole
    video in memory. If a chunk fails the client retries only that chunk.</p>
    <p>Once the upload completes, the API process writes a row for the photo
    to the metadata index and enqueues a thumbnail job by writing a marker
    object under <code>jobs/thumbnails/</code>. Duplicate uploads are detected by
    content hash, so re-installing the app does not create a second copy.</p>

    <h2 id="thumbnails">Thumbnails</h2>
    <p>Thumbnail workers poll the job prefix, download the original, apply
    the EXIF orientation and write JPEG previews. The cache key is the SHA-256
    of the original plus the target size, so a preview is never regenerated
    unless the original changes. HEIC originals need libheif and are handled
    only when the <code>heic_thumbnails</code> flag is on; otherwise a grey
    placeholder is served.</p>
    <ul>
      <li>Sizes: 256 px (grid) and 1024 px (viewer), longest edge.</li>
      <li>Default workers per host: 4, configurable with
      <code>thumbnailer.max_workers</code>.</li>
      <li>Failed jobs are retried three times and then parked under
      <code>jobs/failed/</code> for a human to look at.</li>
    </ul>

    <h2 id="storage">Storage</h2>
    <p>Originals live in an S3-compatible object store. The hosted instance
    runs a three-node MinIO cluster as the <em>hot tier</em>, with TLS on
    every endpoint, and uses a provider's archive class as the <em>cold
    tier</em> for backups that have not been opened in a long time. The
    cold tier is cheap to store but slow and costly to read back, so
    thumbnails and the metadata index always stay on the hot tier.</p>
    <p class="note">Restores from the cold tier are asynchronous: the app shows
    "restoring" and notifies the user when the original is available again.</p>

    <h2 id="metadata-index">Metadata index</h2>
    <p>The metadata index holds one record per photo: owner, album, capture
    time, dimensions, content hash, storage tier and thumbnail state. Today it
    is a set of JSON files, one per album, rewritten on every change. This
    does not scale past roughly 50,000 photos per library and is not safe when
    several thumbnail workers update the same album at once.</p>
    <p>A replacement behind the existing <code>IndexStore</code> interface is
    planned for the 2.5 cycle; the storage engine is still being discussed.
    All code must go through <code>IndexStore</code> so that the switch is a
    configuration change.</p>

    <h2 id="clients">Clients</h2>
    <ul>
      <li><strong>Android app</strong> (Kotlin): background backup with
      WorkManager, local index in SQLite via Room.</li>
      <li><strong>Web UI</strong>: timeline, albums and sharing, served by the
      API process.</li>
      <li><strong>Desktop uploader</strong>: a command-line tool,
      <code>lighthouse-sync</code>, that watches folders.</li>
    </ul>
    <p>There is no iOS app yet. Contributions are welcome, but please talk to us
    in #dev first.</p>
  </main>
</body>
</html>
"""


# ---------------------------------------------------------------------------
# releases.csv
# ---------------------------------------------------------------------------

RELEASES = [
    ("v1.0.0", "2022-09-14", "First public release: Android backup, web timeline, S3 storage", "Maya Okafor"),
    ("v1.1.0", "2022-11-02", "Albums, sharing links with expiry", "Maya Okafor"),
    ("v1.2.0", "2023-01-18", "Desktop uploader lighthouse-sync, arm64 Docker images", "Jonas Berg"),
    ("v1.2.1", "2023-01-25", "Fix crash on videos longer than 2 hours", "Tomás Rivera"),
    ("v1.3.0", "2023-03-08", "Face-free duplicate detection by content hash", "Tomás Rivera"),
    ("v1.4.0", "2023-04-26", "Dark mode in web UI, Android battery-saver mode", "Priya Natarajan"),
    ("v1.5.0", "2023-06-14", "Video thumbnails, EXIF orientation fixes", "Tomás Rivera"),
    ("v1.5.1", "2023-06-20", "Security: sharing links no longer leak album names", "Maya Okafor"),
    ("v2.0.0", "2023-08-30", "New upload protocol (8 MiB chunks), breaking API change for old clients", "Maya Okafor"),
    ("v2.0.1", "2023-09-06", "Fix resumable uploads stalling behind some proxies", "Tomás Rivera"),
    ("v2.1.0", "2023-10-25", "Resumable uploads on by default, per-album storage stats", "Tomás Rivera"),
    ("v2.2.0", "2023-12-13", "Multi-user households, storage quota per user", "Jonas Berg"),
    ("v2.2.1", "2024-01-10", "Fix thumbnail worker memory leak on large PNGs", "Tomás Rivera"),
    ("v2.3.0", "2024-02-21", "Cold storage tier for old backups (archiver job), restore from cold", "Jonas Berg"),
    ("v2.3.1", "2024-03-15", "Retry storage writes with backoff on TLS and connection errors", "Tomás Rivera"),
]


# ---------------------------------------------------------------------------
# feature-flags.json
# ---------------------------------------------------------------------------

FEATURE_FLAGS = {
    "schema_version": 3,
    "updated": "2024-03-15",
    "updated_by": "tomas",
    "defaults": {"rollout_percent": 100, "enabled": False},
    "flags": {
        "uploads": {
            "resumable_uploads": {
                "enabled": True,
                "since": "2.1.0",
                "owner": "Tomás Rivera",
                "description": "Chunked, resumable uploads (8 MiB chunks). Old single-request uploads are still "
                "accepted from clients older than 2.0.",
            },
            "storage_write_retries": {
                "enabled": True,
                "since": "2.3.1",
                "owner": "Tomás Rivera",
                "description": "Retry writes to the object store with exponential backoff (max 5 attempts) on TLS "
                "and connection errors instead of failing the upload. Action item AI-3 of the 2024-03-12 postmortem.",
                "params": {"max_attempts": 5, "base_delay_ms": 250},
            },
        },
        "thumbnails": {
            "heic_thumbnails": {
                "enabled": False,
                "since": "2.4.0",
                "owner": "Tomás Rivera",
                "description": "Generate thumbnails for HEIC/HEIF originals with pillow-heif. Needs libheif on the "
                "host. When off, HEIC photos get a grey placeholder thumbnail.",
            },
            "webp_previews": {
                "enabled": False,
                "since": None,
                "owner": "Priya Natarajan",
                "description": "Serve WebP instead of JPEG previews to clients that accept it. Experimental, "
                "saves about 30% bandwidth on the grid view.",
                "rollout_percent": 0,
            },
        },
        "storage": {
            "cold_tier_archival": {
                "enabled": True,
                "since": "2.3.0",
                "owner": "Jonas Berg",
                "description": "Nightly archiver moves originals not opened for min_age_days to the cold tier. "
                "Thumbnails and the metadata index always stay hot.",
                "params": {"min_age_days": 90, "max_bytes_per_night": 12_000_000_000_000, "verify_checksums": True},
            },
        },
        "index": {
            "new_metadata_index": {
                "enabled": False,
                "since": None,
                "owner": "Tomás Rivera",
                "description": "Placeholder for the replacement of the per-album JSON metadata index. Engine not "
                "decided yet (discussion in #dev). Must stay behind the IndexStore interface.",
            },
        },
        "android": {
            "upload_original_heic": {
                "enabled": False,
                "since": "2.4.0",
                "owner": "Priya Natarajan",
                "description": "Upload HEIC originals as-is instead of converting to JPEG on the device. Only "
                "useful together with thumbnails.heic_thumbnails.",
            },
        },
    },
}


# ---------------------------------------------------------------------------
# thumbnailer.py
# ---------------------------------------------------------------------------

THUMBNAILER_PY = '''\
"""Thumbnail generation for Lighthouse: turns an original photo into grid and viewer previews."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps

log = logging.getLogger(__name__)

# Longest edge, in pixels. 256 for the timeline grid, 1024 for the full-screen viewer.
SIZES = (256, 1024)
JPEG_QUALITY = 82
HEIC_SUFFIXES = {".heic", ".heif"}


class ThumbnailError(Exception):
    """The original could not be turned into a thumbnail."""


@dataclass(frozen=True, slots=True)
class Thumbnail:
    size: int
    path: Path
    width: int
    height: int


def cache_key(original: bytes, size: int) -> str:
    """SHA-256 of the original plus the target size: a preview only changes if the original does."""
    digest = hashlib.sha256(original).hexdigest()
    return f"{digest}_{size}"


def cache_path(cache_dir: Path, key: str) -> Path:
    """Spread files over 256 subdirectories so no directory gets huge."""
    return cache_dir / key[:2] / f"{key}.jpg"


def _open(path: Path, *, heic_enabled: bool) -> Image.Image:
    if path.suffix.lower() in HEIC_SUFFIXES:
        if not heic_enabled:
            raise ThumbnailError(f"{path.name}: HEIC thumbnails are disabled (flag heic_thumbnails)")
        from pillow_heif import register_heif_opener  # optional dependency, needs libheif

        register_heif_opener()
    try:
        image = Image.open(path)
        image.load()
    except OSError as e:
        raise ThumbnailError(f"{path.name}: cannot decode ({e})") from e
    # Phones store portrait photos landscape plus an EXIF orientation tag; apply it.
    return ImageOps.exif_transpose(image)


def make_thumbnails(path: Path, cache_dir: Path, *, heic_enabled: bool = False) -> list[Thumbnail]:
    """Write one JPEG preview per size into cache_dir, reusing existing ones."""
    original = path.read_bytes()
    image = None
    result = []
    for size in SIZES:
        target = cache_path(cache_dir, cache_key(original, size))
        if not target.exists():
            if image is None:
                image = _open(path, heic_enabled=heic_enabled).convert("RGB")
            preview = image.copy()
            preview.thumbnail((size, size), Image.Resampling.LANCZOS)
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(".tmp")
            preview.save(tmp, "JPEG", quality=JPEG_QUALITY, optimize=True)
            tmp.replace(target)  # atomic, so a concurrent reader never sees half a file
            log.debug("wrote %s (%sx%s)", target, preview.width, preview.height)
        with Image.open(target) as done:
            result.append(Thumbnail(size, target, done.width, done.height))
    return result
'''


# ---------------------------------------------------------------------------
# incident-2024-03-12.docx
# ---------------------------------------------------------------------------

INCIDENT_TIMELINE = [
    (
        "2024-03-12 02:14",
        "TLS certificate for storage.internal.lighthouse-photos.org expires. All writes from the "
        "API process to MinIO fail with CERTIFICATE_VERIFY_FAILED (certificate has expired).",
    ),
    ("02:31", "Alert 'UploadErrorRateHigh' fires (error rate 100% for 15 min). Jonas Berg (primary on call) is paged."),
    ("02:44", "Jonas acknowledges, confirms uploads fail, sees TLS errors in the API logs."),
    ("03:20", "Root cause identified: the certificate renewal cron has failed every night since 2024-01-19."),
    ("03:35", "Manual DNS-01 renewal fails: the DNS provider API token used by the cron was revoked in January."),
    ("04:50", "Tomás Rivera (secondary) joins, creates a new scoped API token; certificate renewed manually."),
    ("05:12", "New certificate deployed to minio-1..3, MinIO restarted node by node."),
    ("05:26", "Upload error rate back to normal. Clients retry queued uploads. Incident resolved."),
]

INCIDENT_ACTIONS = [
    (
        "AI-1",
        "Alert when any storage TLS certificate expires in less than 21 days; page at 7 days.",
        "Jonas Berg",
        "2024-03-19",
    ),
    (
        "AI-2",
        "Replace the renewal cron with certbot (DNS-01, scoped API token) and a monthly renewal dry run that "
        "pages on failure.",
        "Jonas Berg",
        "2024-03-22",
    ),
    (
        "AI-3",
        "Server: retry storage writes with exponential backoff on TLS and connection errors.",
        "Tomás Rivera",
        "2024-03-15",
    ),
    (
        "AI-4",
        "Android: show 'Backup paused: server problem' instead of a generic error.",
        "Priya Natarajan",
        "next minor release",
    ),
    ("AI-5", "Add a certificate renewal section to the deploy runbook.", "Tomás Rivera", "2024-03-22"),
]


def write_incident_docx(path: Path) -> None:
    from docx import Document
    from docx.shared import Pt

    doc = Document()
    props = doc.core_properties
    props.title = "Postmortem: storage outage on 2024-03-12"
    props.author = "Jonas Berg"
    props.last_modified_by = "Maya Okafor"
    props.created = datetime(2024, 3, 13, 10, 0)
    props.modified = datetime(2024, 3, 14, 9, 30)
    props.last_printed = datetime(2024, 3, 14, 9, 30)
    props.revision = 3
    props.keywords = "postmortem, storage, tls, minio"
    props.comments = ""

    doc.add_heading("Postmortem: storage outage on 2024-03-12", level=0)
    p = doc.add_paragraph()
    p.add_run("Status: ").bold = True
    p.add_run("final. ")
    p.add_run("Authors: ").bold = True
    p.add_run("Jonas Berg, Tomás Rivera. ")
    p.add_run("Reviewed by: ").bold = True
    p.add_run("Maya Okafor, 2024-03-14.")
    doc.add_paragraph(
        "This is a blameless postmortem. Its purpose is to understand what happened and to make sure it does not "
        "happen again, not to find someone to blame."
    )

    doc.add_heading("Summary", level=1)
    doc.add_paragraph(
        "On Tuesday 2024-03-12 between 02:14 and 05:26 UTC (3 hours 12 minutes) nobody could back up photos to the "
        "hosted Lighthouse instance. The TLS certificate of our S3-compatible storage backend (the MinIO cluster "
        "behind storage.internal.lighthouse-photos.org) expired, and the API process refused to talk to it. Existing "
        "photos stayed viewable because thumbnails are served from a cache on the app nodes, but every upload failed."
    )

    doc.add_heading("Impact", level=1)
    for item in (
        "About 4,100 upload sessions failed. The Android app and lighthouse-sync queued them and uploaded them "
        "automatically after the fix; no photos were lost.",
        "37 users contacted support or posted on the forum because the Android app showed a generic "
        "'Upload failed' error with no explanation.",
        "Restores from the cold tier were delayed by about three hours.",
        "Self-hosted installations were not affected.",
    ):
        doc.add_paragraph(item, style="List Bullet")

    doc.add_heading("Root cause", level=1)
    doc.add_paragraph(
        "The storage endpoints used a Let's Encrypt certificate renewed by a nightly cron job with a DNS-01 "
        "challenge. On 2024-01-19 we rotated the API token for our DNS provider as part of routine credential "
        "hygiene, but the cron job still used the old token stored in a file on minio-1. From that night on, every "
        "renewal attempt failed. The cron job wrote the error to a log file that nobody read, and we had no alert "
        "on certificate expiry, so the certificate simply ran out 53 days later."
    )
    doc.add_heading("Contributing factors", level=2)
    for item in (
        "No monitoring of certificate expiry dates on internal endpoints; we only monitored the public website.",
        "The API process gave up on the first TLS error instead of retrying, so a short blip would also have failed "
        "uploads.",
        "The renewal procedure was not written down, which slowed the manual renewal at 03:35.",
    ):
        doc.add_paragraph(item, style="List Bullet")

    doc.add_heading("Timeline", level=1)
    doc.add_paragraph("All times UTC.")
    table = doc.add_table(rows=1, cols=2)
    table.style = "Table Grid"
    hdr = table.rows[0].cells
    hdr[0].text = "Time"
    hdr[1].text = "Event"
    for when, what in INCIDENT_TIMELINE:
        cells = table.add_row().cells
        cells[0].text = when
        cells[1].text = what
    for row in table.rows:
        for cell in row.cells:
            for para in cell.paragraphs:
                for run in para.runs:
                    run.font.size = Pt(9)

    doc.add_heading("What went well", level=2)
    doc.add_paragraph(
        "The upload error alert fired within 17 minutes and the client-side upload queues meant no data was lost. "
        "Escalation to the secondary on call worked."
    )
    doc.add_heading("What went badly", level=2)
    doc.add_paragraph(
        "It took over an hour to find a working DNS provider token, and the Android error message caused a lot of "
        "confused support requests."
    )

    doc.add_heading("Action items", level=1)
    actions = doc.add_table(rows=1, cols=4)
    actions.style = "Table Grid"
    for cell, text in zip(actions.rows[0].cells, ("ID", "Action", "Owner", "Due"), strict=True):
        cell.text = text
    for row_values in INCIDENT_ACTIONS:
        for cell, text in zip(actions.add_row().cells, row_values, strict=True):
            cell.text = text
    doc.add_paragraph(
        "Progress on the action items is tracked in #ops. The next review of this postmortem is at the monthly "
        "ops meeting in April."
    )

    # The default template carries parts this document does not need (a Word 2010 styles copy, custom XML and
    # a thumbnail of an empty page); leave them out to keep the file small.
    for rel_id, rel in list(doc.part.rels.items()):
        if rel.reltype.endswith(("/stylesWithEffects", "/customXml")):
            doc.part.drop_rel(rel_id)
    package_rels = doc.part.package.rels
    for rel_id, rel in list(package_rels.items()):
        if rel.reltype.endswith("/thumbnail"):
            package_rels.pop(rel_id)

    buf = io.BytesIO()
    doc.save(buf)
    _write_stable_zip(buf.getvalue(), path)


def _write_stable_zip(data: bytes, path: Path) -> None:
    """Rewrite a zip with fixed timestamps so the output is byte-for-byte reproducible."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as dst:
        for info in src.infolist():
            new = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            new.compress_type = zipfile.ZIP_DEFLATED
            new.external_attr = 0o644 << 16
            dst.writestr(new, src.read(info.filename))
    path.write_bytes(out.getvalue())


# ---------------------------------------------------------------------------
# storage-costs.pdf (hand-written minimal PDF)
# ---------------------------------------------------------------------------

PDF_PAGES: list[list[tuple[str, str]]] = [
    [
        ("h1", "Lighthouse storage cost analysis, Q1 2024"),
        ("p", "Prepared by Maya Okafor and Jonas Berg, 2024-02-26. Status: accepted."),
        ("h2", "1. Where we are"),
        (
            "p",
            "The hosted Lighthouse instance stores 142 TB of original photos and videos, growing by about "
            "4 TB per month. Everything lives on the hot tier: a three-node MinIO cluster on rented servers, "
            "which works out to an effective price of $21.50 per TB per month including replication, "
            "bandwidth and the servers themselves. Our monthly storage bill is therefore about $3,053, "
            "which is by far our largest cost and more than the donations cover.",
        ),
        (
            "p",
            "Access logs for the last six months show that most backups are written once and almost never "
            "read again. 71% of the stored bytes (101 TB) belong to originals that have not been opened, "
            "downloaded or restored in the last 90 days. Thumbnails, which are what the apps actually show, "
            "are only 2.3 TB in total.",
        ),
        ("h2", "2. Prices per TB per month"),
        ("p", "Hot tier (current MinIO cluster): $21.50 per TB, no retrieval fee, millisecond latency."),
        ("p", "Standard object storage at a large provider: $18.00 per TB, egress $9.00 per TB."),
        ("p", "Infrequent-access class: $10.00 per TB, retrieval $10.00 per TB, minimum 30 days."),
        (
            "p",
            "Cold archive tier: $4.00 per TB, retrieval $10.00 per TB, minimum 90 days, restores take up to 12 hours.",
        ),
        ("p", "Prices are list prices in USD as of February 2024 and exclude VAT."),
    ],
    [
        ("h2", "3. Options considered"),
        ("p", "Option A, keep everything hot: $3,053 per month today, rising with growth. No engineering work."),
        (
            "p",
            "Option B, move everything to standard object storage: about $2,556 per month, but restores and "
            "the web timeline would pay egress on every read, which is hard to predict.",
        ),
        (
            "p",
            "Option C, tiering: keep thumbnails, the metadata index and recent originals on the hot tier and "
            "move originals not opened for 90 days to the cold archive tier. Hot tier: 41 TB x $21.50 = "
            "$881.50. Cold tier: 101 TB x $4.00 = $404.00. Expected retrievals of about 2 TB per month add "
            "$20.00. Total about $1,305.50 per month.",
        ),
        ("h2", "4. Decision"),
        (
            "p",
            "We go with option C. From March 2024 the archiver job moves cold backups (originals not opened "
            "for 90 days) to the cold archive tier. This saves about $1,748 per month, roughly $21,000 per "
            "year, and keeps the hot tier small enough that we do not need to buy a fourth storage node this "
            "year.",
        ),
        (
            "p",
            "The trade-off is that restoring an old original can take up to 12 hours. The apps show "
            "'restoring' and notify the user when the file is back. Thumbnails stay hot, so browsing old "
            "photos is as fast as before.",
        ),
        ("h2", "5. Risks and follow-ups"),
        (
            "p",
            "The 90-day minimum storage period means files restored and deleted early are still billed for "
            "90 days; we expect this to be under $30 per month. The migration of the existing 101 TB is "
            "throttled to 400 MB/s so it does not slow down uploads, and every moved object is verified by "
            "checksum before the hot copy is deleted. Jonas owns the migration and will do a restore test "
            "of a full account before the first cold-tier bill in April.",
        ),
    ],
]


def _pdf_escape(text: str) -> str:
    text.encode("ascii")  # Helvetica with the standard encoding: keep it ASCII
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _page_stream(blocks: list[tuple[str, str]], page_no: int, total: int) -> bytes:
    """Text operators for one page: every line is placed with its own text matrix (Tm), top to bottom."""
    styles = {"h1": ("F2", 16, 22, 74), "h2": ("F2", 12, 16, 40), "p": ("F1", 10.5, 14, 92)}
    gap_before = {"h1": 0, "h2": 12, "p": 6}
    ops = ["BT"]
    y = 740.0
    for index, (kind, text) in enumerate(blocks):
        font, size, leading, width = styles[kind]
        if index:
            y -= gap_before[kind]
        ops.append(f"/{font} {size} Tf")
        for line in textwrap.wrap(text, width=width):
            ops.append(f"1 0 0 1 72 {y:g} Tm")
            ops.append(f"({_pdf_escape(line)}) Tj")
            y -= leading
    if y < 60:
        raise ValueError(f"page {page_no} overflows")
    ops += ["/F1 9 Tf", "1 0 0 1 72 40 Tm", f"(Lighthouse storage cost analysis - page {page_no} of {total}) Tj"]
    ops.append("ET")
    return ("\n".join(ops) + "\n").encode("ascii")


def write_pdf(path: Path, pages: list[list[tuple[str, str]]]) -> None:
    """A minimal PDF 1.4: catalog, page tree, two standard Type1 fonts, one content stream per page."""
    n = len(pages)
    # Object numbers: 1 catalog, 2 pages, 3 Helvetica, 4 Helvetica-Bold, 5 info, then (page, contents) pairs.
    page_ids = [6 + 2 * i for i in range(n)]
    objects: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: f"<< /Type /Pages /Kids [{' '.join(f'{p} 0 R' for p in page_ids)}] /Count {n} >>".encode(),
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        4: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        5: b"<< /Title (Lighthouse storage cost analysis, Q1 2024) /Author (Maya Okafor; Jonas Berg) "
        b"/Producer (make_samples.py) /CreationDate (D:20240226120000Z) >>",
    }
    for i, blocks in enumerate(pages):
        page_id, content_id = page_ids[i], page_ids[i] + 1
        stream = _page_stream(blocks, i + 1, n)
        objects[page_id] = (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {content_id} 0 R >>"
        ).encode()
        objects[content_id] = f"<< /Length {len(stream)} >>\nstream\n".encode() + stream + b"endstream"

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for num in sorted(objects):
        offsets[num] = len(out)
        out += f"{num} 0 obj\n".encode() + objects[num] + b"\nendobj\n"
    xref_at = len(out)
    size = max(objects) + 1
    out += f"xref\n0 {size}\n".encode()
    out += b"0000000000 65535 f \n"
    for num in range(1, size):
        out += f"{offsets[num]:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {size} /Root 1 0 R /Info 5 0 R >>\nstartxref\n{xref_at}\n%%EOF\n".encode()
    path.write_bytes(bytes(out))


# ---------------------------------------------------------------------------
# Chat exports (DiscordChatExporter JSON)
# ---------------------------------------------------------------------------

GUILD = {
    "id": "900000000000000001",
    "name": "Lighthouse",
    "iconUrl": "https://cdn.discordapp.com/icons/900000000000000001/5f1c0e9b2a7d4e3f8a6b1c2d3e4f5a6b.png?size=512",
}
CATEGORY_ID = "900000000000000002"
DISCORD_EPOCH_MS = 1420070400000
EXPORTED_AT = "2024-03-22T18:04:24.512+00:00"  # both channels were exported in one run

PEOPLE = {
    "maya": ("310457812934672385", "maya.okafor", "Maya", "#1ABC9C", False),
    "tomas": ("402118965230485506", "trivera", "Tomás", "#3498DB", False),
    "priya": ("517390024781193217", "priya.n", "Priya", "#E67E22", False),
    "jonas": ("288931045672816640", "jberg", "Jonas", "#9B59B6", False),
    "sam": ("1062234517890543616", "samwhit", "Sam", None, False),
    "ci": ("1104587321094561802", "Lighthouse CI", "Lighthouse CI", "#95A5A6", True),
    "opsbot": ("1104591186630033418", "Lighthouse Ops", "Lighthouse Ops", "#95A5A6", True),
}


def author(key: str) -> dict:
    uid, name, nick, color, bot = PEOPLE[key]
    avatar_index = int(uid) % 6
    return {
        "id": uid,
        "name": name,
        "discriminator": "0000",
        "nickname": nick,
        "color": color,
        "isBot": bot,
        "roles": [],
        "avatarUrl": f"https://cdn.discordapp.com/embed/avatars/{avatar_index}.png",
    }


# Each entry: (time "HH:MM", author, content, options). A string entry "YYYY-MM-DD" starts a new day.
# Options: label (name this message), reply (label of the message it replies to), edited (minutes later),
# pinned, type (system message type), attach ((fileName, sizeBytes)).
DEV = [
    "2024-03-18",
    ("09:02", "sam", "", {"type": "GuildMemberJoin"}),
    (
        "09:05",
        "maya",
        "welcome Sam! 👋 start with docs/onboarding.md, it covers dev setup and how we do reviews. "
        "shout here if anything in it is out of date, it usually is",
        {"label": "welcome"},
    ),
    ("09:07", "sam", "thanks! going through it now", {}),
    (
        "09:21",
        "sam",
        'quick q: `make dev` fails for me with `ERROR: Dependency "vips" not found` on Ubuntu 22.04',
        {"label": "vips"},
    ),
    (
        "09:23",
        "tomas",
        "you need the libvips headers: `sudo apt install libvips-dev`. it's in the onboarding doc "
        "but easy to miss, I'll move it further up",
        {"reply": "vips"},
    ),
    ("09:29", "sam", "that did it, thanks. tests run now", {}),
    (
        "09:30",
        "tomas",
        "also run `docker compose up -d minio` before the test suite, about a third of the tests "
        "talk to the local S3 backend",
        {},
    ),
    ("09:38", "sam", "👍 all green except one: test_exif_rotation_portrait. is that me?", {"label": "firstflaky"}),
    (
        "09:40",
        "priya",
        "nope, that one is flaky. fails maybe 1 in 10 runs on CI too. we really should fix it",
        {"reply": "firstflaky"},
    ),
    (
        "11:02",
        "jonas",
        "PSA: the MinIO image in docker-compose.yml is pinned to RELEASE.2024-02-17 on purpose. "
        "please don't bump it without running the multipart upload tests, newer releases changed the part size checks",
        {},
    ),
    ("11:04", "tomas", "noted, I'll add a comment next to the pin", {}),
    (
        "14:10",
        "tomas",
        "ok, metadata index. the per-album JSON files are falling over: my 200k photo test library "
        "takes 11s to open the timeline, and two thumbnail workers writing the same album.json corrupted it twice "
        "last week",
        {"label": "index"},
    ),
    (
        "14:12",
        "tomas",
        "options I see: SQLite, Postgres, or an embedded KV store like LMDB. I'd like to decide this "
        "week so the migration can land in 2.5",
        {},
    ),
    (
        "14:15",
        "jonas",
        "Postgres would be nice for the hosted instance, but about half of the self-hosters run "
        "Lighthouse on a Raspberry Pi or a NAS. making them run a Postgres server is a big ask",
        {},
    ),
    (
        "14:16",
        "priya",
        "Android already keeps its local index in SQLite (Room). if the server uses SQLite too we "
        "could share the schema and the migration tests",
        {},
    ),
    (
        "14:19",
        "maya",
        "what about concurrency? we have N thumbnail workers plus the API process all writing",
        {"label": "concurrency"},
    ),
    (
        "14:22",
        "tomas",
        "WAL mode: one writer at a time, readers never block. writes are tiny (a row per photo) so a "
        "single writer with busy_timeout=5000 is plenty. I benchmarked 4 workers inserting 200k rows on my laptop: "
        "38s total, zero SQLITE_BUSY errors",
        {"reply": "concurrency", "edited": 3},
    ),
    ("14:23", "jonas", "LMDB is fast but nobody here knows it well and we'd end up writing our own query layer", {}),
    ("14:25", "priya", "+1 for SQLite", {}),
    ("14:27", "maya", "what's the escape hatch if a big instance outgrows it?", {"label": "escape"}),
    (
        "14:29",
        "tomas",
        "everything already goes through the IndexStore interface. a PostgresIndexStore is maybe a "
        "week of work if someone ever needs it",
        {"reply": "escape"},
    ),
    (
        "14:34",
        "maya",
        "ok, decision: we decided to go with SQLite in WAL mode for the metadata index, Postgres later "
        "if needed (as a second IndexStore). Tomás owns the migration, target is 2.5.0. I'll write it up as ADR-0007",
        {"label": "decision", "pinned": True},
    ),
    ("14:35", "maya", "", {"type": "ChannelPinnedMessage"}),
    ("14:36", "tomas", "🎉 I'll open the tracking issue", {}),
    (
        "14:41",
        "tomas",
        "tracking issue is #1287. first PR just adds the schema and a SqliteIndexStore behind the "
        "`new_metadata_index` flag",
        {},
    ),
    (
        "17:48",
        "ci",
        "❌ **CI failed** on `main` (build #1482, commit 4e1c9ab)\nFailed: "
        "tests/test_thumbnailer.py::test_exif_rotation_portrait\nhttps://ci.lighthouse-photos.org/builds/1482",
        {},
    ),
    ("17:52", "sam", "uh oh, is that my docs PR? it only touched markdown", {"label": "mypr"}),
    ("17:55", "jonas", "no, that's the flaky one again. re-running", {"reply": "mypr"}),
    ("18:06", "ci", "✅ **CI passed** on `main` (build #1483, commit 4e1c9ab)", {}),
    "2024-03-19",
    (
        "09:14",
        "priya",
        "ok I got annoyed and grabbed the full log of last night's failure (build 1482). attaching",
        {"label": "log", "attach": ("ci-1482-test_thumbnailer.log", 18342)},
    ),
    (
        "09:20",
        "tomas",
        "interesting, look at line 212: the test reads `thumbs/ab/abcd1234_1024.jpg` and gets a 256px image back",
        {"reply": "log", "label": "line212"},
    ),
    (
        "09:22",
        "tomas",
        "the thumbnail cache dir is module-level in conftest.py, so with pytest-xdist two workers "
        "share it. test_exif_rotation_portrait and test_small_thumbnail use the same fixture photo",
        {},
    ),
    (
        "09:24",
        "priya",
        "so whichever worker writes first wins. that explains why it only fails on CI: we run -n 4 "
        "there and most of us run without xdist locally",
        {"reply": "line212"},
    ),
    ("09:25", "sam", "can confirm, `pytest -n 4` locally reproduces it in about 1 of 5 runs", {}),
    (
        "09:27",
        "jonas",
        "should we just mark it flaky and auto-retry? pytest-rerunfailures is already in the dev deps",
        {"label": "retry"},
    ),
    (
        "09:30",
        "maya",
        "no retries please. house rule: a flaky test gets fixed within a week or deleted, we don't "
        "quarantine. retries hide real races, and this one is a real race in the test setup",
        {"reply": "retry"},
    ),
    ("09:31", "jonas", "fair", {}),
    ("09:33", "sam", "I can take it if nobody minds? seems like a good first PR", {"label": "volunteer"}),
    (
        "09:34",
        "maya",
        "all yours 🙂 use the tmp_path fixture so every test gets its own cache dir",
        {"reply": "volunteer"},
    ),
    ("09:36", "tomas", "and please rename the fixture while you're there, `thumb_cache` sounds per-test but isn't", {}),
    ("09:52", "sam", 'opened #1290 "test: isolate thumbnail cache per test", draft for now', {}),
    (
        "13:30",
        "maya",
        "release planning for v2.4.0: code freeze Thursday March 28, release on Tuesday April 2",
        {"label": "release", "edited": 9},
    ),
    (
        "13:33",
        "maya",
        "owners this cycle: Priya owns the Android release (Play Console staged rollout), Tomás does "
        "the server and the Docker images, I'll do web and the changelog",
        {"label": "owners"},
    ),
    (
        "13:35",
        "priya",
        "👍 I'll own Android. plan is to start the staged rollout at 10% on April 2 and be at 100% by "
        "Friday April 5 if the crash-free rate stays above 99.5%",
        {"reply": "owners"},
    ),
    ("13:37", "tomas", "server side the big ones are resumable uploads v2 and HEIC thumbnails (behind a flag)", {}),
    (
        "13:41",
        "jonas",
        "reminder that the cert expiry alerting from the postmortem has to be live before we ship "
        "anything that touches storage",
        {},
    ),
    (
        "13:44",
        "tomas",
        "April 2 works for me. the March 26 date from the first draft was too tight with the "
        "postmortem action items anyway",
        {"reply": "release"},
    ),
    ("13:50", "maya", "I'll update the milestone on GitHub. anything not merged by the 28th moves to 2.5", {}),
    "2024-03-20",
    (
        "10:02",
        "sam",
        "#1290 is ready for review. ran `pytest -n 4` 50 times in a loop: 0 failures (it was ~10 "
        "failures per 50 before)",
        {"label": "ready"},
    ),
    ("10:08", "tomas", "reviewing", {"reply": "ready"}),
    (
        "10:21",
        "tomas",
        "approved, one nit about a docstring. needs a second approval per the review rules, Priya can you take a look?",
        {},
    ),
    ("10:30", "priya", "approved ✅", {}),
    ("10:31", "ci", "✅ **CI passed** on `samwhit/isolate-thumb-cache` (build #1497, PR #1290)", {}),
    ("10:33", "maya", "merged. nice first PR Sam!", {}),
    ("10:35", "sam", "🎉 thanks all", {}),
    (
        "15:20",
        "priya",
        "question about HEIC: most Samsung phones since the S21 can shoot HEIC, and right now the "
        "server shows a grey placeholder thumbnail for those. can we get HEIC thumbnails into 2.4?",
        {"label": "heic"},
    ),
    (
        "15:24",
        "tomas",
        "the code is done, it's behind `heic_thumbnails` in feature-flags.json. it needs pillow-heif, "
        "which pulls in libheif",
        {"reply": "heic"},
    ),
    (
        "15:26",
        "jonas",
        "libheif is LGPL, we ship it as a separate shared lib in the Docker image so that's fine. the "
        "arm64 image gets about 14 MB bigger though",
        {},
    ),
    (
        "15:29",
        "maya",
        "then: enabled on the hosted instance, off by default for self-hosters in 2.4, flip the default "
        "in 2.5 if nobody complains",
        {},
    ),
    (
        "15:31",
        "priya",
        "works for me. Android will upload the original HEIC instead of converting to JPEG on the "
        "device, behind the upload_original_heic flag",
        {"edited": 4},
    ),
    ("15:33", "tomas", "I'll update the flag descriptions", {}),
    (
        "15:40",
        "priya",
        "also: the Android 2.4 beta is on the Play internal testing track now. if you want to test, "
        "DM me the Google account to invite",
        {"label": "beta"},
    ),
    ("15:42", "sam", "me please, I have a Pixel 7 and an old Samsung A52 for HEIC", {"reply": "beta"}),
    "2024-03-21",
    ("09:40", "tomas", "SQLite index spike numbers, on a Raspberry Pi 4 with the 200k photo test library:", {}),
    (
        "09:41",
        "tomas",
        "- initial import from the album JSON files: 41 s\n- timeline query p95: 3 ms (JSON files: "
        "180 ms)\n- database size: 96 MB",
        {"label": "numbers"},
    ),
    (
        "09:44",
        "jonas",
        "nice. one worry: WAL on SD cards. the -wal file can grow a lot if a long read transaction blocks checkpoints",
        {"reply": "numbers", "label": "walworry"},
    ),
    (
        "09:47",
        "tomas",
        "I'll set journal_size_limit and run `PRAGMA wal_checkpoint(TRUNCATE)` after each import "
        "batch. and synchronous=NORMAL, which is safe in WAL mode",
        {"reply": "walworry"},
    ),
    ("09:48", "jonas", "👍", {}),
    ("09:52", "priya", "that's the same config we use on Android fwiw", {}),
    ("09:55", "maya", "great, please put the numbers in ADR-0007 too", {}),
    (
        "10:12",
        "tomas",
        "PR #1301 is up: schema + SqliteIndexStore, flag off by default. 612 lines, sorry, the schema "
        "migration tests are most of it",
        {},
    ),
    ("10:14", "ci", "✅ **CI passed** on `trivera/sqlite-index-store` (build #1503, PR #1301)", {}),
    (
        "13:05",
        "priya",
        "heads up, forum report: a user reinstalled the Android app and says all photos got uploaded a second time",
        {"label": "dupes"},
    ),
    (
        "13:09",
        "tomas",
        "the server dedupes by content hash, so they shouldn't be stored twice. maybe the timeline shows them twice?",
        {"reply": "dupes"},
    ),
    (
        "13:15",
        "priya",
        "looked at their logs: it's the Samsung 'remaster' feature. the gallery rewrites the JPEG "
        "(new EXIF), so the hash differs. not a Lighthouse bug",
        {},
    ),
    ("13:17", "maya", "can you reply on the forum and add it to the FAQ?", {}),
    ("13:18", "priya", "will do", {}),
    (
        "16:30",
        "sam",
        "what's the process to get deploy access? I'd like to help with the staging deploys",
        {"label": "access"},
    ),
    (
        "16:33",
        "jonas",
        "ask in #ops. and don't bother before tomorrow: the deploy key rotates Friday afternoon and "
        "you'd have to redo it anyway",
        {"reply": "access"},
    ),
    ("16:34", "sam", "ok, will do", {}),
]

OPS = [
    "2024-03-18",
    (
        "08:31",
        "jonas",
        "morning. cold tier migration status: 38 TB of backups older than 90 days moved so far, 63 TB "
        "to go. the copy job is throttled to 400 MB/s so it doesn't hurt uploads",
        {"label": "migration"},
    ),
    ("08:34", "maya", "how long for the rest?", {"label": "howlong"}),
    (
        "08:36",
        "jonas",
        "about 2 more days at this rate. we're on track for the first cold-tier bill in April",
        {"reply": "howlong"},
    ),
    (
        "08:40",
        "tomas",
        "did we do a restore test yet? I don't want to find out the retrieval path is broken when "
        "someone actually needs an old backup",
        {"label": "restore"},
    ),
    (
        "08:47",
        "jonas",
        "did one on Friday: restored a full 212 GB account from cold. retrieval took 4h10m (the "
        "provider says up to 12h), all checksums matched",
        {"reply": "restore"},
    ),
    ("08:48", "tomas", "👍", {}),
    (
        "11:02",
        "opsbot",
        "🚀 Deployed **lighthouse-server v2.3.1** to **production (eu-1)**, triggered by jberg, duration 3m12s",
        {},
    ),
    (
        "11:05",
        "jonas",
        "2.3.1 is out on prod. it's the fix that retries storage writes with backoff on TLS errors "
        "instead of failing the upload (AI-3 from the March 12 postmortem)",
        {},
    ),
    ("11:07", "maya", "🙏", {}),
    "2024-03-19",
    (
        "10:12",
        "jonas",
        "AI-1 from the postmortem is done: we now get an alert when any TLS cert on the storage "
        "endpoints expires in less than 21 days, and it pages at 7 days",
        {"label": "ai1"},
    ),
    (
        "10:14",
        "jonas",
        "tested it with a cert I issued with 10 days of validity, the page arrived within 5 minutes",
        {},
    ),
    ("10:15", "maya", "thank you. that's the one that would have saved us on the 12th", {"reply": "ai1"}),
    ("10:20", "tomas", "I'll do AI-5 (cert renewal section in the runbook) this week", {}),
    ("13:02", "jonas", "cold tier migration: 71 TB moved, about 30 TB to go", {}),
    ("16:40", "opsbot", "🔔 [FIRING] MinioDiskUsageHigh: minio-3 /data at 86% (threshold 85%)", {}),
    (
        "16:44",
        "jonas",
        "that's the cold-tier copy job, it stages chunks on minio-3 before uploading them. it cleans "
        "up when it's done, silencing for 24h",
        {},
    ),
    ("16:45", "tomas", "ack", {}),
    "2024-03-20",
    (
        "09:58",
        "maya",
        "on-call next week (week 13): Tomás primary, Jonas secondary. handover Monday 10:00 UTC as usual",
        {"label": "oncall"},
    ),
    ("10:01", "tomas", "ack", {}),
    ("10:03", "sam", "should I join the rota at some point?", {"label": "rota"}),
    (
        "10:06",
        "maya",
        "yes, after shadowing for a week. let's say you shadow Tomás in week 14, the release week, "
        "so you see a busy one",
        {"reply": "rota"},
    ),
    ("10:07", "sam", "sounds good", {}),
    (
        "14:30",
        "jonas",
        "AI-2: renewal now runs through certbot with DNS-01 and a scoped API token that can only "
        "edit the _acme-challenge TXT records. the old cron broke in January because the token it used was rotated "
        "and nobody updated the file on minio-1",
        {"label": "ai2"},
    ),
    ("14:32", "tomas", "is there a test that renewal actually works?", {"reply": "ai2", "label": "ai2q"}),
    (
        "14:35",
        "jonas",
        "monthly `certbot renew --dry-run` from cron, a failure pages the on-call. first run passed",
        {"reply": "ai2q"},
    ),
    ("14:36", "maya", "🎉", {}),
    ("17:10", "opsbot", "✅ [RESOLVED] MinioDiskUsageHigh: minio-3 /data at 61%", {}),
    (
        "18:02",
        "jonas",
        "cold tier migration finished: 101 TB now on the cold tier, hot tier down to 41 TB. "
        "verification found 0 checksum mismatches",
        {"label": "migdone"},
    ),
    ("18:05", "maya", "🎉 that's the ~$1,750/month from the cost analysis", {"reply": "migdone"}),
    "2024-03-21",
    ("09:03", "tomas", "handover notes for next week's on-call are in the wiki, same page as always", {}),
    ("11:20", "tomas", "AI-5 done, the runbook has a certificates section now", {}),
    (
        "15:02",
        "jonas",
        "📌 reminder: the deploy key rotates tomorrow, Friday, at 16:00 UTC, like every Friday. "
        "anything you want in prod this week must be deployed by 15:30 UTC. after the rotation run "
        "`lh-vault read deploy/prod` to get the new key, the old one stops working immediately",
        {"label": "rotation", "pinned": True},
    ),
    ("15:03", "jonas", "", {"type": "ChannelPinnedMessage"}),
    ("15:10", "tomas", "then I'll deploy the thumbnailer worker change tomorrow morning", {}),
    (
        "15:20",
        "maya",
        "could we move the rotation to Monday? Friday afternoon is already a bad time for anything",
        {"label": "monday"},
    ),
    (
        "15:26",
        "jonas",
        "we looked at that. Friday 16:00 UTC is the one slot where both of us who can rotate (me and "
        "Tomás) are online and nobody is deploying. I'd keep it",
        {"reply": "monday"},
    ),
    ("15:27", "maya", "fair enough", {}),
    ("16:40", "sam", "hi! Jonas said to ask here: how do I get deploy access for staging?", {"label": "access"}),
    (
        "16:45",
        "jonas",
        "open an access request issue in lighthouse/infra with your SSH key fingerprint. I'll add you "
        "to the staging group right after tomorrow's rotation so you get the new key directly",
        {"reply": "access"},
    ),
    ("16:46", "sam", "done: infra#88", {}),
    "2024-03-22",
    (
        "09:14",
        "opsbot",
        "🚀 Deployed **lighthouse-server v2.3.1** (config: thumbnailer.max_workers=6) to "
        "**production (eu-1)**, triggered by trivera, duration 2m48s",
        {},
    ),
    ("09:16", "tomas", "thumbnail workers bumped from 4 to 6 on eu-1, CPU looks fine", {}),
    ("15:31", "tomas", "deploy window closed, nothing in flight", {}),
    ("15:58", "jonas", "starting the deploy key rotation now", {}),
    (
        "16:04",
        "jonas",
        "rotation done. new key is in the vault, fingerprint SHA256:q3VdJ1tq0n8GkqZ2c7m9Xr4LwE5yP6bH"
        "aT0sUf28Lk. old key revoked on all hosts",
        {"edited": 2},
    ),
    ("16:06", "tomas", "pulled the new key, `deploy.sh status prod` works", {}),
    ("16:20", "jonas", "Sam: you're in the staging group now", {}),
    ("16:24", "sam", "got the key from the vault, `deploy.sh status staging` works 🎉", {}),
    ("16:25", "jonas", "welcome to ops 🙂 staging only for now, and nothing on Fridays after 15:30 UTC", {}),
    ("16:31", "maya", "have a good weekend all", {}),
]

SYSTEM_CONTENT = {"GuildMemberJoin": "Joined the server.", "ChannelPinnedMessage": "Pinned a message."}


def _iso(dt: datetime) -> str:
    return dt.isoformat(timespec="milliseconds")


def _snowflake(dt: datetime, increment: int) -> int:
    ms = int(dt.timestamp() * 1000) - DISCORD_EPOCH_MS
    return (ms << 22) | (1 << 17) | (0 << 12) | (increment & 0xFFF)


def build_export(channel: dict, script: list, seed: int) -> dict:
    rng = random.Random(seed)  # noqa: S311  (reproducible jitter for sample data, not security)
    messages = []
    labels: dict[str, str] = {}
    day = None
    last = None
    for n, entry in enumerate(script):
        if isinstance(entry, str):
            day = entry
            continue
        hhmm, who, content, opts = entry
        dt = datetime.fromisoformat(f"{day}T{hhmm}:00+00:00") + timedelta(
            seconds=rng.randint(0, 55), milliseconds=rng.randint(0, 999)
        )
        if last is not None and dt <= last:
            raise ValueError(f"timestamps out of order at {day} {hhmm}")
        last = dt
        msg_id = str(_snowflake(dt, n))
        kind = opts.get("type") or ("Reply" if "reply" in opts else "Default")
        msg = {
            "id": msg_id,
            "type": kind,
            "timestamp": _iso(dt),
            "timestampEdited": _iso(dt + timedelta(minutes=opts["edited"], seconds=rng.randint(1, 50)))
            if "edited" in opts
            else None,
            "callEndedTimestamp": None,
            "isPinned": bool(opts.get("pinned")),
            "content": SYSTEM_CONTENT.get(kind, content),
            "author": author(who),
            "attachments": [],
            "embeds": [],
            "stickers": [],
            "reactions": [],
            "mentions": [],
        }
        if "attach" in opts:
            name, size = opts["attach"]
            att_id = str(_snowflake(dt, n + 1))
            msg["attachments"].append(
                {
                    "id": att_id,
                    "url": f"https://cdn.discordapp.com/attachments/{channel['id']}/{att_id}/{name}",
                    "fileName": name,
                    "fileSizeBytes": size,
                }
            )
        if "reply" in opts:
            target = labels[opts["reply"]]
            msg["reference"] = {"messageId": target, "channelId": channel["id"], "guildId": GUILD["id"]}
        if "label" in opts:
            labels[opts["label"]] = msg_id
        messages.append(msg)
    return {
        "guild": GUILD,
        "channel": channel,
        "dateRange": {"after": None, "before": None},
        "exportedAt": EXPORTED_AT,
        "messages": messages,
        "messageCount": len(messages),
    }


def _dump_export(data: dict) -> str:
    """Same JSON as DiscordChatExporter writes, but one message per line to keep the files small and diffable."""
    head = {k: v for k, v in data.items() if k != "messages"}
    lines = [json.dumps(m, ensure_ascii=False, separators=(",", ":")) for m in data["messages"]]
    parts = [f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in head.items() if k != "messageCount"]
    parts.append('  "messages": [\n    ' + ",\n    ".join(lines) + "\n  ]")
    parts.append(f'  "messageCount": {data["messageCount"]}')
    return "{\n" + ",\n".join(parts) + "\n}\n"


def write_chat() -> None:
    CHAT.mkdir(parents=True, exist_ok=True)
    dev = {
        "id": "900000000000000010",
        "type": "GuildTextChat",
        "categoryId": CATEGORY_ID,
        "category": "Development",
        "name": "dev",
        "topic": "Lighthouse development: code, reviews, releases. Docs: docs/onboarding.md",
    }
    ops = {
        "id": "900000000000000020",
        "type": "GuildTextChat",
        "categoryId": CATEGORY_ID,
        "category": "Development",
        "name": "ops",
        "topic": "Hosted instance: deploys, access, incidents. On call this week: Jonas",
    }
    for name, channel, script, seed in (("lighthouse-dev.json", dev, DEV, 10), ("lighthouse-ops.json", ops, OPS, 20)):
        data = build_export(channel, script, seed)
        (CHAT / name).write_text(_dump_export(data), encoding="utf-8")


# ---------------------------------------------------------------------------


def write_docs() -> None:
    DOCS.mkdir(parents=True, exist_ok=True)
    (DOCS / "onboarding.md").write_text(ONBOARDING_MD, encoding="utf-8")
    (DOCS / "runbook-deploys.txt").write_text(RUNBOOK_TXT, encoding="utf-8")
    (DOCS / "architecture.html").write_text(ARCHITECTURE_HTML, encoding="utf-8")
    (DOCS / "thumbnailer.py").write_text(THUMBNAILER_PY, encoding="utf-8")
    (DOCS / "feature-flags.json").write_text(
        json.dumps(FEATURE_FLAGS, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    with (DOCS / "releases.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["version", "date", "highlights", "owner"])
        writer.writerows(RELEASES)
    write_incident_docx(DOCS / "incident-2024-03-12.docx")
    write_pdf(DOCS / "storage-costs.pdf", PDF_PAGES)


def main() -> None:
    write_docs()
    write_chat()
    total = sum(p.stat().st_size for p in HERE.rglob("*") if p.is_file())
    print(f"wrote samples to {HERE} ({total / 1024:.1f} KB in total)")  # noqa: T201  (a script reports what it wrote)


if __name__ == "__main__":
    main()
