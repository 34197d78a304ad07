from django import forms

from gallery.models import Report


class ReportForm(forms.Form):
    reason = forms.ChoiceField(choices=Report.Reason.choices, widget=forms.RadioSelect, label="What is wrong?")
    details = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="Anything a moderator should know",
    )


class ModerationForm(forms.Form):
    """A moderator's action from the queue. The reason goes into the audit log."""

    ACTIONS = [("hide", "Hide item"), ("restore", "Restore item"), ("dismiss", "Dismiss reports"), ("ban", "Ban user")]

    action = forms.ChoiceField(choices=ACTIONS)
    reason = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
