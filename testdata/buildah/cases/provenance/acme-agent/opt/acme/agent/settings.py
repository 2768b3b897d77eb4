"""ACME agent settings (fake credential for layerscan tests)."""
GITHUB_TOKEN = "ghp_Zq4Hn8Tc2Wx6Lr9Vb3Ky7Md1Pf5Sg0Ju2Ea8"
