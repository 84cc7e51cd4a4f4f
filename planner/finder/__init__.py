"""The 关爱地图 finder: nearby services from a tapped point, name search, facility cards."""
