"""SoMe-koulutus: an onboarding course on Hämeenkyrö's social-media guideline."""

__version__ = "0.1.0"
