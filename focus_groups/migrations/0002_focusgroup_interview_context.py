from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("focus_groups", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="focusgroup",
            name="interview_context",
            field=models.CharField(
                choices=[
                    ("independent", "independent answers"),
                    ("earlier_answers", "each answer sees the persona's earlier answers"),
                ],
                default="independent",
                help_text="Interviews only: whether answers see the persona's earlier answers (then asked in order).",
                max_length=16,
                verbose_name="interview answers",
            ),
        ),
    ]
