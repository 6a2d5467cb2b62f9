/*
  ncutil.c - netCDF helpers shared by the layers that write datasets (results.nc in jobs/, analysis.nc in analysis/):
  a text attribute, and a variable defined with its CF long_name, units and _FillValue.
*/
#include <stabaudit/sasys.h>
#include <string.h>

/*@C
  SANCAttText - Writes a text attribute of a netCDF variable (or NC_GLOBAL)

  Not Collective (a netCDF define-mode call: every rank of a parallel file makes it)

  Input Parameters:
+ ncid  - the file
. varid - the variable, or NC_GLOBAL
. name  - the attribute's name
- text  - its value (NUL-terminated; written without the NUL)

  Level: developer

.seealso: `SANCDefVar()`
@*/
PetscErrorCode SANCAttText(int ncid, int varid, const char name[], const char text[])
{
  PetscFunctionBeginUser;
  SACallNC(nc_put_att_text, (ncid, varid, name, strlen(text), text));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SANCDefVar - Defines a netCDF variable with its long_name, units and _FillValue attributes

  Not Collective (a netCDF define-mode call: every rank of a parallel file makes it)

  Input Parameters:
+ ncid      - the file, in define mode
. name      - the variable's name
. type      - NC_DOUBLE, NC_INT or NC_CHAR (the fill value is netCDF's default of the type; 0 for NC_CHAR)
. ndims     - the number of dimensions
. dims      - their ids
. long_name - the CF long_name
- units     - the CF units ("1" for dimensionless)

  Output Parameter:
. varid - the variable's id

  Level: developer

.seealso: `SANCAttText()`, `SAResultsWrite()`
@*/
PetscErrorCode SANCDefVar(int ncid, const char name[], nc_type type, int ndims, const int dims[],
                          const char long_name[], const char units[], int *varid)
{
  PetscFunctionBeginUser;
  SACallNC(nc_def_var, (ncid, name, type, ndims, dims, varid));
  PetscCall(SANCAttText(ncid, *varid, "long_name", long_name));
  PetscCall(SANCAttText(ncid, *varid, "units", units));
  if (type == NC_DOUBLE) {
    double f = NC_FILL_DOUBLE;
    SACallNC(nc_def_var_fill, (ncid, *varid, 0, &f));
  } else if (type == NC_INT) {
    int f = NC_FILL_INT;
    SACallNC(nc_def_var_fill, (ncid, *varid, 0, &f));
  } else if (type == NC_CHAR) {
    char f = 0;
    SACallNC(nc_def_var_fill, (ncid, *varid, 0, &f));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}
