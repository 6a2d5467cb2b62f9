"""Opens results.nc with xarray (warnings are errors) and checks the CF metadata stabaudit promises."""
import sys, warnings
warnings.simplefilter("error")
import xarray as xr, netCDF4

path = sys.argv[1]
ds = xr.open_dataset(path)
for dim in ("member", "step", "config"):
    assert dim in ds.dims, dim
for att in ("Conventions", "title", "source", "history", "sa_options", "institution", "references", "comment"):
    assert att in ds.attrs and ds.attrs[att], att
assert ds.attrs["Conventions"].startswith("CF-1.13")
assert "PETSc" in ds.attrs["source"] and "SLEPc" in ds.attrs["source"] and "netCDF" in ds.attrs["source"]
assert "run" in ds.attrs["history"]
assert "-campaign_steps" in ds.attrs["sa_options"]
need = ["config", "dimension", "kind", "magnitude", "onset", "duration", "seed", "twin", "reason",
        "final_performance", "loss", "performance", "grad_norm", "update_norm", "theta_norm", "lr"]
for v in need:
    assert v in ds.variables, v
raw = netCDF4.Dataset(path)
for name, var in raw.variables.items():
    attrs = var.ncattrs()
    for a in ("long_name", "units", "_FillValue"):
        assert a in attrs, (name, a)
assert list(raw["reason"].flag_meanings.split()) == ["diverged_loss_exploded", "diverged_nan", "completed"]
assert list(raw["reason"].flag_values) == [-2, -1, 1]
assert ds["loss"].dims == ("member", "step")
assert ds["performance"].max() <= 1 and ds["performance"].min() >= 0
twins = (ds["twin"] == -1).sum().item()
print("dataset OK:", dict(ds.sizes), "twins", twins)
