"""Customer portal: double opt-in campaigns: who gets one, the email, queueing, progress."""

from flask import (
    Flask,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from requests_queue.campaigns import (
    CampaignContent,
    RecipientLinks,
    create_campaign,
    failed_recipients,
    is_stalled,
    preview_campaign,
    progress_of,
    provided_content,
    render_preview,
    run_campaign_queueing,
)
from requests_queue.errors import ValidationError
from requests_queue.mass_actions import parse_fields
from requests_queue.models import Account, Campaign, CampaignState, CampaignTemplate
from requests_queue.now import now_utc

from .. import background
from ..auth.session import current_actor
from ..edge import operation
from ..extensions import db
from ..form_errors import attach_errors
from ..ids import parse_number
from .campaign_forms import CampaignFieldsForm, CampaignForm
from .scoping import filter_from_args, own, own_latest, selection_shown
from .views import bp


def _content(form: CampaignForm) -> CampaignContent:
    template = CampaignTemplate(form.template.data or CampaignTemplate.provided.value)
    if template is CampaignTemplate.provided:
        return provided_content()
    return CampaignContent(template, form.subject.data or "", form.body.data or "")


@bp.route("/campaigns")
def campaigns():
    """The account's double opt-in campaigns, newest first, with their counts."""
    rows = own_latest(Campaign, 100)
    progress = progress_of(db.session, [c.id for c in rows])
    return render_template("customer/campaigns.html", campaigns=rows, progress=progress)


@bp.route("/campaigns/new", methods=["GET", "POST"])
def new_campaign():
    """From a contact selection: who would get a confirmation, the email, then send."""
    flt = filter_from_args()
    # Until the customer picks fields, the default (Email) is previewed.
    fields_form = CampaignFieldsForm(request.args if "fields" in request.args else None)
    form = CampaignForm()
    if request.method == "GET":
        form.subject.data = form.subject.data or provided_content().subject
        form.body.data = form.body.data or provided_content().body
    now = now_utc()
    preview = fields = None
    if fields_form.validate():
        fields = parse_fields(fields_form.fields.data)
        preview = preview_campaign(db.session, flt, fields, now)
        form.expected_count.data = form.expected_count.data or str(preview.eligible)
    account_name = db.session.get(Account, current_user.account_id).name
    submitted = form.validate_on_submit()  # before adding domain errors: it resets them
    rendered = None
    try:
        rendered = render_preview(_content(form), account_name, _base_url())
    except ValidationError as exc:
        if submitted:
            attach_errors(form, [exc])
    if submitted and form.send.data and fields and rendered:
        with operation(form) as op:
            campaign = create_campaign(
                db.session,
                flt,
                fields,
                _content(form),
                current_actor(),
                now,
                # The count the customer saw; tampered with, it is 0 and cannot match.
                expected_count=parse_number(form.expected_count.data) or 0,
            )
        if op.done:
            start_queueing(current_app._get_current_object(), campaign.id)
            flash(
                f"{campaign.expected_count:,} confirmation emails are being prepared. "
                "They go out in the background; this page shows how far they are.",
                "success",
            )
            return redirect(url_for(".campaign", campaign_id=campaign.id))
        form.expected_count.data = str(preview.eligible)  # the count as it is now
    return render_template(
        "customer/campaign_new.html",
        fields_form=fields_form,
        form=form,
        preview=preview,
        rendered=rendered,
        **selection_shown(flt),
        account_name=account_name,
    )


@bp.route("/campaigns/<id:campaign_id>")
def campaign(campaign_id: int):
    """One campaign: progress while it sends, then sent, confirmed, unsubscribed, failed."""
    row = own(Campaign, campaign_id)
    stalled = is_stalled(row, now_utc())
    if stalled and not background.is_running("campaign", row.id):
        start_queueing(current_app._get_current_object(), row.id)  # its run died: resume
    progress = progress_of(db.session, [row.id])[row.id]
    return render_template(
        "customer/campaign.html",
        campaign=row,
        stalled=stalled,
        progress=progress,
        failed=failed_recipients(db.session, row) if progress.failed else [],
    )


@bp.route("/campaigns/<id:campaign_id>/progress.json")
def campaign_progress(campaign_id: int):
    """How far the preparation of a campaign's emails is, for the progress bar."""
    row = own(Campaign, campaign_id)
    return background.progress_response(
        row.state is not CampaignState.queueing,
        row.percent,
        is_stalled(row, now_utc()),
        written=row.recipient_count,
        expected=row.expected_count,
    )


def _base_url() -> str:
    return current_app.config["PUBLIC_BASE_URL"]


def start_queueing(app: Flask, campaign_id: int) -> None:
    """Write the campaign's emails in a thread of this process, never inside the request.

    If the process stops first, the scheduler's resume_campaign_queueing job finishes it.
    """
    links = RecipientLinks(app.config["SECRET_KEY"], app.config["PUBLIC_BASE_URL"])
    background.start(
        app, "campaign", campaign_id, lambda: run_campaign_queueing(db.engine, campaign_id, links)
    )
